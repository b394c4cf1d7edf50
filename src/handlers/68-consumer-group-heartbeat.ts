/**
 * ConsumerGroupHeartbeat (key 68), v0-1: KIP-848 consumer groups with server-side assignment.
 * v0: the coordinator generates the member id on the first heartbeat; v1 (KIP-1082): the client
 * brings its own (empty: INVALID_REQUEST) and may subscribe by regex. The logic is in
 * groups/consumer-heartbeat.ts; the answer waits until the group log holds what changed.
 */
import { consumerGroupsOf } from "../groups/broker-wiring.ts";
import { readConsumerGroupHeartbeatRequest } from "../protocol/generated/consumer-group-heartbeat-request.ts";
import { writeConsumerGroupHeartbeatResponse, type ConsumerGroupHeartbeatResponse } from "../protocol/generated/consumer-group-heartbeat-response.ts";
import { defineHandler } from "./handler.ts";

export const consumerGroupHeartbeatHandler = defineHandler({
  apiKey: 68,
  name: "ConsumerGroupHeartbeat",
  minVersion: 0,
  maxVersion: 1,
  readRequest: readConsumerGroupHeartbeatRequest,
  writeResponse: writeConsumerGroupHeartbeatResponse,
  async handle({ broker, apiVersion, clientId, conn }, req): Promise<ConsumerGroupHeartbeatResponse> {
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
