/**
 * DeleteGroups (key 42), v1-2 (Kafka 4 removed v0). A group with members gets NON_EMPTY_GROUP; an
 * unknown one GROUP_ID_NOT_FOUND; one without DELETE on it GROUP_AUTHORIZATION_FAILED (untouched). Deleting writes tombstones for the group and all its offsets.
 */
import { readDeleteGroupsRequest } from "../protocol/generated/delete-groups-request.ts";
import { writeDeleteGroupsResponse, type DeleteGroupsResponse } from "../protocol/generated/delete-groups-response.ts";
import { defineHandler } from "./handler.ts";
import { AuthzError, authorizeGroup } from "../acl/check.ts";
import { AclOperation } from "../acl/types.ts";

export const deleteGroupsHandler = defineHandler({
  apiKey: 42,
  name: "DeleteGroups",
  minVersion: 1,
  maxVersion: 2,
  readRequest: readDeleteGroupsRequest,
  writeResponse: writeDeleteGroupsResponse,
  async handle(ctx, req): Promise<DeleteGroupsResponse> {
    const allowed = req.groupsNames.filter((id) => authorizeGroup(ctx, AclOperation.DELETE, id));
    const codes = allowed.length === 0 ? [] : await ctx.broker.groups.deleteGroups(allowed);
    let i = 0;
    return {
      throttleTimeMs: 0,
      results: req.groupsNames.map((groupId) => ({ groupId, errorCode: authorizeGroup(ctx, AclOperation.DELETE, groupId) ? codes[i++]! : AuthzError.GROUP_AUTHORIZATION_FAILED })),
    };
  },
});
