/**
 * ApiVersions (key 18), v0-4. Answered from the handler registry, so only served APIs are listed.
 * Unknown versions never reach this handler: dispatch answers them in the v0 layout (see dispatch.ts).
 * Skipped: supported/finalized features (no feature flags on a single node).
 */
import { readApiVersionsRequest } from "../protocol/generated/api-versions-request.ts";
import { writeApiVersionsResponse, type ApiVersionsResponse } from "../protocol/generated/api-versions-response.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { defineHandler } from "./handler.ts";
import { apiVersionRanges } from "./registry.ts";

export const apiVersionsHandler = defineHandler({
  apiKey: 18,
  name: "ApiVersions",
  minVersion: 0,
  maxVersion: 4,
  readRequest: readApiVersionsRequest,
  writeResponse: writeApiVersionsResponse,
  handle(): ApiVersionsResponse {
    return { errorCode: ErrorCode.NONE, apiKeys: apiVersionRanges(), throttleTimeMs: 0 };
  },
});
