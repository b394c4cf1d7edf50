/**
 * SyncGroup (key 14), v0-5. The leader sends the assignment; every member's answer waits until it
 * is durable in the group log. v5 checks protocol type and name against the group's.
 */
import { readSyncGroupRequest } from "../protocol/generated/sync-group-request.ts";
import { writeSyncGroupResponse, type SyncGroupResponse } from "../protocol/generated/sync-group-response.ts";
import { defineHandler } from "./handler.ts";
import { AuthzError, authorizeGroup } from "../acl/check.ts";
import { AclOperation } from "../acl/types.ts";

export const syncGroupHandler = defineHandler({
  apiKey: 14,
  name: "SyncGroup",
  minVersion: 0,
  maxVersion: 5,
  readRequest: readSyncGroupRequest,
  writeResponse: writeSyncGroupResponse,
  async handle(ctx, req): Promise<SyncGroupResponse> {
    const { broker } = ctx;
    if (!authorizeGroup(ctx, AclOperation.READ, req.groupId)) {
      return { throttleTimeMs: 0, errorCode: AuthzError.GROUP_AUTHORIZATION_FAILED, protocolType: null, protocolName: null, assignment: new Uint8Array(0) };
    }
    const r = await broker.groups.syncGroup(req.groupId, {
      memberId: req.memberId,
      groupInstanceId: req.groupInstanceId ?? null,
      generationId: req.generationId,
      protocolType: req.protocolType ?? null,
      protocolName: req.protocolName ?? null,
      assignments: req.assignments,
    });
    return { throttleTimeMs: 0, errorCode: r.errorCode, protocolType: r.protocolType, protocolName: r.protocolName, assignment: r.assignment };
  },
});
