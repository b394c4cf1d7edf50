/**
 * DescribeGroups (key 15), v0-5. Members with their metadata and assignment, which (like Kafka)
 * are filled in only for a Stable group. An unknown group is reported as Dead with no error (the
 * v0-5 behaviour); so is a KIP-848 consumer group, as Kafka answers v0-5 (ConsumerGroupDescribe
 * describes those). DESCRIBE on the group is required (else GROUP_AUTHORIZATION_FAILED for that
 * group); authorized_operations (v3+) are computed when asked for, else Kafka's "not requested" value.
 */
import { readDescribeGroupsRequest } from "../protocol/generated/describe-groups-request.ts";
import { writeDescribeGroupsResponse, type DescribeGroupsResponse } from "../protocol/generated/describe-groups-response.ts";
import { defineHandler } from "./handler.ts";
import { AuthzError, authorizeGroup, authorizedOperations } from "../acl/check.ts";
import { AclOperation, ResourceType } from "../acl/types.ts";

const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

export const describeGroupsHandler = defineHandler({
  apiKey: 15,
  name: "DescribeGroups",
  minVersion: 0,
  maxVersion: 5,
  readRequest: readDescribeGroupsRequest,
  writeResponse: writeDescribeGroupsResponse,
  handle(ctx, req): DescribeGroupsResponse {
    const { broker } = ctx;
    return {
      throttleTimeMs: 0,
      groups: req.groups.map((id) => {
        if (!authorizeGroup(ctx, AclOperation.DESCRIBE, id)) {
          return {
            errorCode: AuthzError.GROUP_AUTHORIZATION_FAILED, groupId: id, groupState: "", protocolType: "", protocolData: "", members: [],
            authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
          };
        }
        const d = broker.groups.describeGroup(id);
        return {
          errorCode: d.errorCode,
          groupId: d.groupId,
          groupState: d.state,
          protocolType: d.protocolType,
          protocolData: d.protocolData,
          members: d.members.map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            clientId: m.clientId,
            clientHost: m.clientHost,
            memberMetadata: m.metadata,
            memberAssignment: m.assignment,
          })),
          authorizedOperations: req.includeAuthorizedOperations ? authorizedOperations(ctx, ResourceType.GROUP, id) : AUTHORIZED_OPERATIONS_OMITTED,
        };
      }),
    };
  },
});
