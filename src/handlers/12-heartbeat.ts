/**
 * Heartbeat (key 12), v0-4. Keeps a classic group member alive; REBALANCE_IN_PROGRESS tells it to
 * rejoin.
 */
import { readHeartbeatRequest } from "../protocol/generated/heartbeat-request.ts";
import { writeHeartbeatResponse, type HeartbeatResponse } from "../protocol/generated/heartbeat-response.ts";
import { defineHandler } from "./handler.ts";
import { AuthzError, authorizeGroup } from "../acl/check.ts";
import { AclOperation } from "../acl/types.ts";

export const heartbeatHandler = defineHandler({
  apiKey: 12,
  name: "Heartbeat",
  minVersion: 0,
  maxVersion: 4,
  readRequest: readHeartbeatRequest,
  writeResponse: writeHeartbeatResponse,
  handle(ctx, req): HeartbeatResponse {
    const { broker } = ctx;
    if (!authorizeGroup(ctx, AclOperation.READ, req.groupId)) return { throttleTimeMs: 0, errorCode: AuthzError.GROUP_AUTHORIZATION_FAILED };
    return { throttleTimeMs: 0, errorCode: broker.groups.heartbeat(req.groupId, req.memberId, req.groupInstanceId ?? null, req.generationId) };
  },
});
