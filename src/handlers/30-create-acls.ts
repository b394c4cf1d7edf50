/**
 * CreateAcls (key 30), v1-3: stores the bindings (durably, before answering). Needs ALTER on the
 * cluster; an invalid binding gets INVALID_REQUEST in its own result. Without an authorizer
 * (`authorizer.class.name` unset) every creation answers SECURITY_DISABLED, as Kafka does.
 */
import { readCreateAclsRequest } from "../protocol/generated/create-acls-request.ts";
import { writeCreateAclsResponse, type CreateAclsResponse } from "../protocol/generated/create-acls-response.ts";
import { aclServiceFor } from "../acl/acl-service.ts";
import { AuthzError, authorizeCluster } from "../acl/check.ts";
import { AclOperation, PatternType, type AclBinding } from "../acl/types.ts";
import { validateBinding } from "../acl/validate.ts";
import { defineHandler } from "./handler.ts";

export const createAclsHandler = defineHandler({
  apiKey: 30,
  name: "CreateAcls",
  minVersion: 1,
  maxVersion: 3,
  readRequest: readCreateAclsRequest,
  writeResponse: writeCreateAclsResponse,
  async handle(ctx, req): Promise<CreateAclsResponse> {
    const service = aclServiceFor(ctx.broker);
    const fail = (errorCode: number, errorMessage: string) => ({
      throttleTimeMs: 0, results: req.creations.map(() => ({ errorCode, errorMessage })),
    });
    if (service.authorizer === null) return fail(AuthzError.SECURITY_DISABLED, "No Authorizer is configured.");
    if (!authorizeCluster(ctx, AclOperation.ALTER)) return fail(AuthzError.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed.");
    const valid: AclBinding[] = [];
    const results = req.creations.map((c) => {
      const b: AclBinding = {
        resourceType: c.resourceType, resourceName: c.resourceName, patternType: c.resourcePatternType ?? PatternType.LITERAL,
        principal: c.principal, host: c.host, operation: c.operation, permissionType: c.permissionType,
      };
      const problem = validateBinding(b);
      if (problem !== null) return { errorCode: AuthzError.INVALID_REQUEST, errorMessage: problem };
      valid.push(b);
      return { errorCode: 0, errorMessage: null };
    });
    if (valid.length > 0) await service.store.add(valid);
    return { throttleTimeMs: 0, results };
  },
});
