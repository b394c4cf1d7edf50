/**
 * DeleteAcls (key 31), v1-3: removes every stored binding matching each filter (durably, before
 * answering) and lists them per filter. Needs ALTER on the cluster; SECURITY_DISABLED without an
 * authorizer; INVALID_REQUEST for a filter with UNKNOWN codes.
 */
import { readDeleteAclsRequest } from "../protocol/generated/delete-acls-request.ts";
import { writeDeleteAclsResponse, type DeleteAclsFilterResult, type DeleteAclsResponse } from "../protocol/generated/delete-acls-response.ts";
import { aclServiceFor } from "../acl/acl-service.ts";
import { AuthzError, authorizeCluster } from "../acl/check.ts";
import { filterMatches } from "../acl/filter.ts";
import { AclOperation, PatternType, bindingKey, type AclBinding } from "../acl/types.ts";
import { validateFilter } from "../acl/validate.ts";
import { defineHandler } from "./handler.ts";

export const deleteAclsHandler = defineHandler({
  apiKey: 31,
  name: "DeleteAcls",
  minVersion: 1,
  maxVersion: 3,
  readRequest: readDeleteAclsRequest,
  writeResponse: writeDeleteAclsResponse,
  async handle(ctx, req): Promise<DeleteAclsResponse> {
    const service = aclServiceFor(ctx.broker);
    const fail = (errorCode: number, errorMessage: string): DeleteAclsResponse => ({
      throttleTimeMs: 0, filterResults: req.filters.map(() => ({ errorCode, errorMessage, matchingAcls: [] })),
    });
    if (service.authorizer === null) return fail(AuthzError.SECURITY_DISABLED, "No Authorizer is configured.");
    if (!authorizeCluster(ctx, AclOperation.ALTER)) return fail(AuthzError.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed.");
    const doomed = new Map<string, AclBinding>();
    const filterResults: DeleteAclsFilterResult[] = req.filters.map((f) => {
      const filter = {
        resourceType: f.resourceTypeFilter, resourceName: f.resourceNameFilter, patternType: f.patternTypeFilter ?? PatternType.LITERAL,
        principal: f.principalFilter, host: f.hostFilter, operation: f.operation, permissionType: f.permissionType,
      };
      const problem = validateFilter(filter);
      if (problem !== null) return { errorCode: AuthzError.INVALID_REQUEST, errorMessage: problem, matchingAcls: [] };
      const matchingAcls = [];
      for (const b of service.store.all()) {
        if (!filterMatches(filter, b)) continue;
        doomed.set(bindingKey(b), b);
        matchingAcls.push({ errorCode: 0, errorMessage: null, ...b });
      }
      return { errorCode: 0, errorMessage: null, matchingAcls };
    });
    if (doomed.size > 0) await service.store.remove([...doomed.values()]);
    return { throttleTimeMs: 0, filterResults };
  },
});
