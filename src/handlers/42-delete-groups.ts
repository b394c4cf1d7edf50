/**
 * DeleteGroups (key 42), v1-2 (Kafka 4 removed v0). A group with members gets NON_EMPTY_GROUP; an
 * unknown one GROUP_ID_NOT_FOUND. Deleting writes tombstones for the group and all its offsets.
 */
import { readDeleteGroupsRequest } from "../protocol/generated/delete-groups-request.ts";
import { writeDeleteGroupsResponse, type DeleteGroupsResponse } from "../protocol/generated/delete-groups-response.ts";
import { defineHandler } from "./handler.ts";

export const deleteGroupsHandler = defineHandler({
  apiKey: 42,
  name: "DeleteGroups",
  minVersion: 1,
  maxVersion: 2,
  readRequest: readDeleteGroupsRequest,
  writeResponse: writeDeleteGroupsResponse,
  async handle({ broker }, req): Promise<DeleteGroupsResponse> {
    const codes = await broker.groups.deleteGroups(req.groupsNames);
    return { throttleTimeMs: 0, results: req.groupsNames.map((groupId, i) => ({ groupId, errorCode: codes[i]! })) };
  },
});
