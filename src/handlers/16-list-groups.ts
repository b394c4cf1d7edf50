/**
 * ListGroups (key 16), v0-5. States filter from v4 (case-insensitive, as Kafka), types filter from
 * v5 ("classic", or "consumer" for KIP-848 groups). Groups that only hold offsets are listed
 * with an empty protocol type, as Kafka lists them. DESCRIBE on the cluster lists every group;
 * otherwise only the groups the principal may DESCRIBE are listed (no error), as Kafka.
 */
import { readListGroupsRequest } from "../protocol/generated/list-groups-request.ts";
import { writeListGroupsResponse, type ListGroupsResponse } from "../protocol/generated/list-groups-response.ts";
import { GroupError } from "../groups/errors.ts";
import { defineHandler } from "./handler.ts";
import { authorizeCluster, authorizeGroup } from "../acl/check.ts";
import { AclOperation } from "../acl/types.ts";

export const listGroupsHandler = defineHandler({
  apiKey: 16,
  name: "ListGroups",
  minVersion: 0,
  maxVersion: 5,
  readRequest: readListGroupsRequest,
  writeResponse: writeListGroupsResponse,
  handle(ctx, req): ListGroupsResponse {
    const all = ctx.broker.groups.listGroups(req.statesFilter ?? [], req.typesFilter ?? []);
    const groups = authorizeCluster(ctx, AclOperation.DESCRIBE) ? all : all.filter((g) => authorizeGroup(ctx, AclOperation.DESCRIBE, g.groupId));
    return {
      throttleTimeMs: 0,
      errorCode: GroupError.NONE,
      groups: groups.map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.state, groupType: g.type })),
    };
  },
});
