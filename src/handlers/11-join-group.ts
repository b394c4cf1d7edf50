/**
 * JoinGroup (key 11), v0-9. Kafka 4 removed v0-1, but librdkafka up to 2.x enables balanced
 * consumers only when JoinGroup v0 is advertised (its feature table wants 0..0), so v0-1 stay
 * served (v0: the rebalance timeout is the session timeout). Classic group membership; the state
 * machine is in groups/classic-group.ts. v4+: a member without an id gets MEMBER_ID_REQUIRED and an id to
 * rejoin with (KIP-394); v5+: static membership (KIP-345); v9: skip_assignment (KIP-814).
 * The response waits until the join phase of the rebalance completes.
 */
import { readJoinGroupRequest } from "../protocol/generated/join-group-request.ts";
import { writeJoinGroupResponse, type JoinGroupResponse } from "../protocol/generated/join-group-response.ts";
import { defineHandler } from "./handler.ts";
import { AuthzError, authorizeGroup } from "../acl/check.ts";
import { AclOperation } from "../acl/types.ts";

export const joinGroupHandler = defineHandler({
  apiKey: 11,
  name: "JoinGroup",
  minVersion: 0,
  maxVersion: 9,
  readRequest: readJoinGroupRequest,
  writeResponse: writeJoinGroupResponse,
  async handle(ctx, req): Promise<JoinGroupResponse> {
    const { broker, apiVersion, clientId, conn } = ctx;
    if (!authorizeGroup(ctx, AclOperation.READ, req.groupId)) {
      return {
        throttleTimeMs: 0, errorCode: AuthzError.GROUP_AUTHORIZATION_FAILED, generationId: -1, protocolType: null,
        protocolName: apiVersion >= 7 ? null : "", leader: "", skipAssignment: false, memberId: req.memberId, members: [],
      };
    }
    const rebalanceTimeoutMs = req.rebalanceTimeoutMs === undefined || req.rebalanceTimeoutMs < 0 ? req.sessionTimeoutMs : req.rebalanceTimeoutMs;
    const r = await broker.groups.joinGroup(req.groupId, {
      memberId: req.memberId,
      groupInstanceId: req.groupInstanceId ?? null,
      clientId: clientId ?? "",
      clientHost: `/${conn.remoteAddress}`,
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs,
      protocolType: req.protocolType,
      protocols: req.protocols,
      requireKnownMemberId: apiVersion >= 4,
      supportsSkipAssignment: apiVersion >= 9,
    });
    return {
      throttleTimeMs: 0,
      errorCode: r.errorCode,
      generationId: r.generationId,
      protocolType: r.protocolType,
      // Nullable only from v7.
      protocolName: apiVersion >= 7 ? r.protocolName : (r.protocolName ?? ""),
      leader: r.leader,
      skipAssignment: r.skipAssignment,
      memberId: r.memberId,
      members: r.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadata })),
    };
  },
});
