/**
 * ConsumerGroupDescribe (key 69), v0: KIP-848 groups with their epochs, assignor, and every
 * member's current and target assignment (topic ids and names). A classic group or an unknown id
 * answers GROUP_ID_NOT_FOUND, as Kafka (the admin client then falls back to DescribeGroups).
 * ACLs as Kafka: DESCRIBE on each group (else GROUP_AUTHORIZATION_FAILED for it); a group whose
 * members' assignments name a topic the principal may not DESCRIBE answers TOPIC_AUTHORIZATION_FAILED
 * without members. authorized_operations are computed when asked for.
 */
import { consumerGroupsOf } from "../groups/broker-wiring.ts";
import { readConsumerGroupDescribeRequest } from "../protocol/generated/consumer-group-describe-request.ts";
import { writeConsumerGroupDescribeResponse, type ConsumerGroupDescribeResponse } from "../protocol/generated/consumer-group-describe-response.ts";
import { defineHandler } from "./handler.ts";
import { AuthzError, authorizeGroup, authorizeTopic, authorizedOperations } from "../acl/check.ts";
import { AclOperation, ResourceType } from "../acl/types.ts";

const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

export const consumerGroupDescribeHandler = defineHandler({
  apiKey: 69,
  name: "ConsumerGroupDescribe",
  minVersion: 0,
  maxVersion: 0,
  readRequest: readConsumerGroupDescribeRequest,
  writeResponse: writeConsumerGroupDescribeResponse,
  handle(ctx, req): ConsumerGroupDescribeResponse {
    const groups = consumerGroupsOf(ctx.broker);
    return {
      throttleTimeMs: 0,
      groups: req.groupIds.map((id) => {
        const empty = { groupState: "", groupEpoch: 0, assignmentEpoch: 0, assignorName: "", members: [], authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED };
        if (!authorizeGroup(ctx, AclOperation.DESCRIBE, id)) return { ...empty, groupId: id, errorCode: AuthzError.GROUP_AUTHORIZATION_FAILED, errorMessage: null };
        const d = groups.consumer.describe(id);
        const named = d.members.flatMap((m) => [...m.assignment, ...m.targetAssignment].map((tp) => tp.topicName));
        if (named.some((t) => !authorizeTopic(ctx, AclOperation.DESCRIBE, t))) {
          return { ...empty, groupId: id, errorCode: AuthzError.TOPIC_AUTHORIZATION_FAILED, errorMessage: "The group has described topic(s) that the client is not authorized to describe." };
        }
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
          authorizedOperations: req.includeAuthorizedOperations ? authorizedOperations(ctx, ResourceType.GROUP, id) : AUTHORIZED_OPERATIONS_OMITTED,
        };
      }),
    };
  },
});
