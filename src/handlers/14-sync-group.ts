/**
 * SyncGroup (key 14), v0-5. The leader sends the assignment; every member's answer waits until it
 * is durable in the group log. v5 checks protocol type and name against the group's.
 */
import { readSyncGroupRequest } from "../protocol/generated/sync-group-request.ts";
import { writeSyncGroupResponse, type SyncGroupResponse } from "../protocol/generated/sync-group-response.ts";
import { defineHandler } from "./handler.ts";

export const syncGroupHandler = defineHandler({
  apiKey: 14,
  name: "SyncGroup",
  minVersion: 0,
  maxVersion: 5,
  readRequest: readSyncGroupRequest,
  writeResponse: writeSyncGroupResponse,
  async handle({ broker }, req): Promise<SyncGroupResponse> {
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
