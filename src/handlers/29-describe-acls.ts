/**
 * DescribeAcls (key 29), v1-3: the stored bindings that match one filter, grouped by resource
 * pattern. Needs DESCRIBE on the cluster (CLUSTER_AUTHORIZATION_FAILED otherwise); SECURITY_DISABLED
 * without an authorizer; INVALID_REQUEST for a filter with UNKNOWN codes.
 */
import { readDescribeAclsRequest } from "../protocol/generated/describe-acls-request.ts";
import { writeDescribeAclsResponse, type DescribeAclsResource, type DescribeAclsResponse } from "../protocol/generated/describe-acls-response.ts";
import { aclServiceFor } from "../acl/acl-service.ts";
import { AuthzError, authorizeCluster } from "../acl/check.ts";
import { filterMatches } from "../acl/filter.ts";
import { AclOperation, PatternType } from "../acl/types.ts";
import { validateFilter } from "../acl/validate.ts";
import { defineHandler } from "./handler.ts";

export const describeAclsHandler = defineHandler({
  apiKey: 29,
  name: "DescribeAcls",
  minVersion: 1,
  maxVersion: 3,
  readRequest: readDescribeAclsRequest,
  writeResponse: writeDescribeAclsResponse,
  handle(ctx, req): DescribeAclsResponse {
    const service = aclServiceFor(ctx.broker);
    const fail = (errorCode: number, errorMessage: string): DescribeAclsResponse => ({ throttleTimeMs: 0, errorCode, errorMessage, resources: [] });
    if (service.authorizer === null) return fail(AuthzError.SECURITY_DISABLED, "No Authorizer is configured.");
    if (!authorizeCluster(ctx, AclOperation.DESCRIBE)) return fail(AuthzError.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed.");
    const filter = {
      resourceType: req.resourceTypeFilter, resourceName: req.resourceNameFilter, patternType: req.patternTypeFilter ?? PatternType.LITERAL,
      principal: req.principalFilter, host: req.hostFilter, operation: req.operation, permissionType: req.permissionType,
    };
    const problem = validateFilter(filter);
    if (problem !== null) return fail(AuthzError.INVALID_REQUEST, problem);
    const byPattern = new Map<string, DescribeAclsResource>();
    for (const b of service.store.all()) {
      if (!filterMatches(filter, b)) continue;
      const key = `${b.resourceType}\u0000${b.patternType}\u0000${b.resourceName}`;
      let r = byPattern.get(key);
      if (!r) byPattern.set(key, (r = { resourceType: b.resourceType, resourceName: b.resourceName, patternType: b.patternType, acls: [] }));
      r.acls.push({ principal: b.principal, host: b.host, operation: b.operation, permissionType: b.permissionType });
    }
    return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, resources: [...byPattern.values()] };
  },
});
