/**
 * ListGroups (key 16), v0-5. States filter from v4 (case-insensitive, as Kafka), types filter from
 * v5 ("classic", or "consumer" for KIP-848 groups). Groups that only hold offsets are listed
 * with an empty protocol type, as Kafka lists them.
 */
import { readListGroupsRequest } from "../protocol/generated/list-groups-request.ts";
import { writeListGroupsResponse, type ListGroupsResponse } from "../protocol/generated/list-groups-response.ts";
import { GroupError } from "../groups/errors.ts";
import { defineHandler } from "./handler.ts";

export const listGroupsHandler = defineHandler({
  apiKey: 16,
  name: "ListGroups",
  minVersion: 0,
  maxVersion: 5,
  readRequest: readListGroupsRequest,
  writeResponse: writeListGroupsResponse,
  handle({ broker }, req): ListGroupsResponse {
    const groups = broker.groups.listGroups(req.statesFilter ?? [], req.typesFilter ?? []);
    return {
      throttleTimeMs: 0,
      errorCode: GroupError.NONE,
      groups: groups.map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.state, groupType: g.type })),
    };
  },
});
