/**
 * DescribeClientQuotas (key 48), v0-1: the configured client quotas whose entity matches the filter
 * (src/quota/describe.ts); a malformed filter answers INVALID_REQUEST with entries null, as Kafka.
 * Open to every principal until ACLs cover it.
 */
import { readDescribeClientQuotasRequest } from "../protocol/generated/describe-client-quotas-request.ts";
import { writeDescribeClientQuotasResponse, type DescribeClientQuotasResponse } from "../protocol/generated/describe-client-quotas-response.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { entityComponents } from "../quota/entity.ts";
import { checkFilter, describeEntries } from "../quota/describe.ts";
import { quotaManagerFor } from "../quota/registry.ts";
import { defineHandler } from "./handler.ts";

export const describeClientQuotasHandler = defineHandler({
  apiKey: 48,
  name: "DescribeClientQuotas",
  minVersion: 0,
  maxVersion: 1,
  readRequest: readDescribeClientQuotasRequest,
  writeResponse: writeDescribeClientQuotasResponse,
  handle({ broker }, req): DescribeClientQuotasResponse {
    const error = checkFilter(req.components);
    if (error !== null) return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: error, entries: null };
    const entries = describeEntries(quotaManagerFor(broker).store.all(), req.components, req.strict).map((q) => ({
      entity: entityComponents(q.entity),
      values: Object.entries(q.values).map(([key, value]) => ({ key, value })),
    }));
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, entries };
  },
});
