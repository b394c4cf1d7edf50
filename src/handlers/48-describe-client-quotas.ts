/**
 * DescribeClientQuotas (key 48), v0-1: the configured client quotas whose entity matches the filter
 * (src/quota/describe.ts); a malformed filter answers INVALID_REQUEST with entries null, as Kafka.
 * DESCRIBE_CONFIGS on the cluster is required (else CLUSTER_AUTHORIZATION_FAILED, entries null), as Kafka.
 */
import { readDescribeClientQuotasRequest } from "../protocol/generated/describe-client-quotas-request.ts";
import { writeDescribeClientQuotasResponse, type DescribeClientQuotasResponse } from "../protocol/generated/describe-client-quotas-response.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { entityComponents } from "../quota/entity.ts";
import { checkFilter, describeEntries } from "../quota/describe.ts";
import { quotaManagerFor } from "../quota/registry.ts";
import { defineHandler } from "./handler.ts";
import { AuthzError, authorizeCluster } from "../acl/check.ts";
import { AclOperation } from "../acl/types.ts";

export const describeClientQuotasHandler = defineHandler({
  apiKey: 48,
  name: "DescribeClientQuotas",
  minVersion: 0,
  maxVersion: 1,
  readRequest: readDescribeClientQuotasRequest,
  writeResponse: writeDescribeClientQuotasResponse,
  handle(ctx, req): DescribeClientQuotasResponse {
    const { broker } = ctx;
    if (!authorizeCluster(ctx, AclOperation.DESCRIBE_CONFIGS)) {
      return { throttleTimeMs: 0, errorCode: AuthzError.CLUSTER_AUTHORIZATION_FAILED, errorMessage: "Cluster authorization failed.", entries: null };
    }
    const error = checkFilter(req.components);
    if (error !== null) return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: error, entries: null };
    const entries = describeEntries(quotaManagerFor(broker).store.all(), req.components, req.strict).map((q) => ({
      entity: entityComponents(q.entity),
      values: Object.entries(q.values).map(([key, value]) => ({ key, value })),
    }));
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, entries };
  },
});
