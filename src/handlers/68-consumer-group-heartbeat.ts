/**
 * ConsumerGroupHeartbeat (key 68), v0-1: KIP-848 consumer groups with server-side assignment.
 * v0: the coordinator generates the member id on the first heartbeat; v1 (KIP-1082): the client
 * brings its own (empty: INVALID_REQUEST) and may subscribe by regex. The logic is in
 * groups/consumer-heartbeat.ts; the answer waits until the group log holds what changed.
 * ACLs as Kafka: READ on the group (else GROUP_AUTHORIZATION_FAILED), and DESCRIBE on every
 * subscribed topic name (else TOPIC_AUTHORIZATION_FAILED, nothing changes in the group).
 */
import { consumerGroupsOf } from "../groups/broker-wiring.ts";
import { readConsumerGroupHeartbeatRequest } from "../protocol/generated/consumer-group-heartbeat-request.ts";
import { writeConsumerGroupHeartbeatResponse, type ConsumerGroupHeartbeatResponse } from "../protocol/generated/consumer-group-heartbeat-response.ts";
import { defineHandler } from "./handler.ts";
import { AuthzError, authorizeGroup, authorizeTopic } from "../acl/check.ts";
import { AclOperation } from "../acl/types.ts";

export const consumerGroupHeartbeatHandler = defineHandler({
  apiKey: 68,
  name: "ConsumerGroupHeartbeat",
  minVersion: 0,
  maxVersion: 1,
  readRequest: readConsumerGroupHeartbeatRequest,
  writeResponse: writeConsumerGroupHeartbeatResponse,
  async handle(ctx, req): Promise<ConsumerGroupHeartbeatResponse> {
    const { broker, apiVersion, clientId, conn } = ctx;
    const denied = (errorCode: number, errorMessage: string): ConsumerGroupHeartbeatResponse => ({
      throttleTimeMs: 0, errorCode, errorMessage, memberId: null, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null,
    });
    if (!authorizeGroup(ctx, AclOperation.READ, req.groupId)) return denied(AuthzError.GROUP_AUTHORIZATION_FAILED, "Group authorization failed.");
    const hidden = [...new Set(req.subscribedTopicNames ?? [])].filter((t) => !authorizeTopic(ctx, AclOperation.DESCRIBE, t));
    if (hidden.length > 0) return denied(AuthzError.TOPIC_AUTHORIZATION_FAILED, `Not authorized to describe topics: [${hidden.join(", ")}]`);
    const r = await consumerGroupsOf(broker).consumer.heartbeat({
      apiVersion,
      groupId: req.groupId,
      memberId: req.memberId,
      memberEpoch: req.memberEpoch,
      instanceId: req.instanceId,
      rackId: req.rackId,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      subscribedTopicNames: req.subscribedTopicNames,
      subscribedTopicRegex: req.subscribedTopicRegex ?? null,
      serverAssignor: req.serverAssignor,
      topicPartitions: req.topicPartitions,
      clientId: clientId ?? "",
      clientHost: `/${conn.remoteAddress}`,
    });
    return {
      throttleTimeMs: 0,
      errorCode: r.errorCode,
      errorMessage: r.errorMessage,
      memberId: r.memberId,
      memberEpoch: r.memberEpoch,
      heartbeatIntervalMs: r.heartbeatIntervalMs,
      assignment: r.assignment === null ? null : { topicPartitions: r.assignment },
    };
  },
});
