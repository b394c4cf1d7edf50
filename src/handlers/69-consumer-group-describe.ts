/**
 * ConsumerGroupDescribe (key 69), v0: KIP-848 groups with their epochs, assignor, and every
 * member's current and target assignment (topic ids and names). A classic group or an unknown id
 * answers GROUP_ID_NOT_FOUND, as Kafka (the admin client then falls back to DescribeGroups).
 * authorized_operations: not computed (no ACLs yet).
 */
import { consumerGroupsOf } from "../groups/broker-wiring.ts";
import { readConsumerGroupDescribeRequest } from "../protocol/generated/consumer-group-describe-request.ts";
import { writeConsumerGroupDescribeResponse, type ConsumerGroupDescribeResponse } from "../protocol/generated/consumer-group-describe-response.ts";
import { defineHandler } from "./handler.ts";

const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

export const consumerGroupDescribeHandler = defineHandler({
  apiKey: 69,
  name: "ConsumerGroupDescribe",
  minVersion: 0,
  maxVersion: 0,
  readRequest: readConsumerGroupDescribeRequest,
  writeResponse: writeConsumerGroupDescribeResponse,
  handle({ broker }, req): ConsumerGroupDescribeResponse {
    const groups = consumerGroupsOf(broker);
    return {
      throttleTimeMs: 0,
      groups: req.groupIds.map((id) => {
        const d = groups.consumer.describe(id);
        return {
          errorCode: d.errorCode,
          errorMessage: d.errorMessage,
          groupId: d.groupId,
          groupState: d.groupState,
          groupEpoch: d.groupEpoch,
          assignmentEpoch: d.assignmentEpoch,
          assignorName: d.assignorName,
          members: d.members.map((m) => ({
            memberId: m.memberId,
            instanceId: m.instanceId,
            rackId: m.rackId,
            memberEpoch: m.memberEpoch,
            clientId: m.clientId,
            clientHost: m.clientHost,
            subscribedTopicNames: m.subscribedTopicNames,
            subscribedTopicRegex: m.subscribedTopicRegex,
            assignment: { topicPartitions: m.assignment },
            targetAssignment: { topicPartitions: m.targetAssignment },
          })),
          authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
        };
      }),
    };
  },
});
