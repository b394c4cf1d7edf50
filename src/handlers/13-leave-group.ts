/**
 * LeaveGroup (key 13), v0-5. v0-2: one member id; v3+: a batch of members, by member id or by
 * group.instance.id (static members, KIP-345), each with its own error code.
 */
import { readLeaveGroupRequest } from "../protocol/generated/leave-group-request.ts";
import { writeLeaveGroupResponse, type LeaveGroupResponse } from "../protocol/generated/leave-group-response.ts";
import { GroupError } from "../groups/errors.ts";
import { defineHandler } from "./handler.ts";
import { AuthzError, authorizeGroup } from "../acl/check.ts";
import { AclOperation } from "../acl/types.ts";

export const leaveGroupHandler = defineHandler({
  apiKey: 13,
  name: "LeaveGroup",
  minVersion: 0,
  maxVersion: 5,
  readRequest: readLeaveGroupRequest,
  writeResponse: writeLeaveGroupResponse,
  handle(ctx, req): LeaveGroupResponse {
    const { broker, apiVersion } = ctx;
    // Kafka answers a denied LeaveGroup with the top-level error only (no per-member results).
    if (!authorizeGroup(ctx, AclOperation.READ, req.groupId)) return { throttleTimeMs: 0, errorCode: AuthzError.GROUP_AUTHORIZATION_FAILED, members: [] };
    if (apiVersion < 3) {
      const r = broker.groups.leaveGroup(req.groupId, [{ memberId: req.memberId ?? "", groupInstanceId: null }]);
      return { throttleTimeMs: 0, errorCode: r.errorCode !== GroupError.NONE ? r.errorCode : (r.members[0] ?? GroupError.NONE), members: [] };
    }
    const identities = (req.members ?? []).map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId }));
    const r = broker.groups.leaveGroup(req.groupId, identities);
    return {
      throttleTimeMs: 0,
      errorCode: r.errorCode,
      members: r.errorCode !== GroupError.NONE ? [] : identities.map((m, i) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode: r.members[i]! })),
    };
  },
});
