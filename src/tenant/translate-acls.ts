/**
 * Tenant translation of the ACL APIs. A tenant's ACLs are stored with internal names, so the
 * authorizer (which sees internal names in every request) enforces them unchanged:
 *   LITERAL n -> LITERAL prefix+n,  LITERAL * -> PREFIXED prefix,  PREFIXED p -> PREFIXED prefix+p,
 * on TOPIC, GROUP and TRANSACTIONAL_ID resources; other resource types (CLUSTER, USER, ...) are
 * broker-wide and refused to tenants. Filters (DescribeAcls, DeleteAcls) are applied to the tenant's
 * bindings seen with client names, so a tenant can neither see nor delete other tenants' ACLs.
 */
import type { CreateAclsRequest } from "../protocol/generated/create-acls-request.ts";
import type { CreateAclsResponse } from "../protocol/generated/create-acls-response.ts";
import type { DescribeAclsRequest } from "../protocol/generated/describe-acls-request.ts";
import type { DescribeAclsResponse } from "../protocol/generated/describe-acls-response.ts";
import type { DeleteAclsRequest } from "../protocol/generated/delete-acls-request.ts";
import type { DeleteAclsResponse } from "../protocol/generated/delete-acls-response.ts";
import type { RequestContext } from "../handlers/handler.ts";
import { aclServiceFor } from "../acl/acl-service.ts";
import { filterMatches } from "../acl/filter.ts";
import { PatternType, ResourceType, WILDCARD, type AclBinding, type AclBindingFilter } from "../acl/types.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import type { TenantNamespace } from "./namespace.ts";
import type { TenantContext } from "./tenant-context.ts";
import type { ResponseFix } from "./translator.ts";

const TENANT_TYPES: ReadonlySet<number> = new Set([ResourceType.TOPIC, ResourceType.GROUP, ResourceType.TRANSACTIONAL_ID]);
const NOT_FOR_TENANTS = "A tenant's ACLs may only name topics, groups and transactional ids.";

interface Pattern {
  resourceType: number;
  resourceName: string;
  patternType: number;
}

/** Client pattern -> stored pattern, or null when a tenant may not hold it. */
function patternIn(ns: TenantNamespace, p: Pattern): Pattern | null {
  if (!TENANT_TYPES.has(p.resourceType)) return null;
  if (p.patternType === PatternType.LITERAL && p.resourceName === WILDCARD) return { ...p, resourceName: ns.prefix, patternType: PatternType.PREFIXED };
  if (p.patternType !== PatternType.LITERAL && p.patternType !== PatternType.PREFIXED) return null;
  return { ...p, resourceName: ns.in(p.resourceName) };
}

/** Stored pattern -> what the tenant sees, or null when it is not the tenant's. */
function patternOut(ns: TenantNamespace, p: Pattern): Pattern | null {
  if (!TENANT_TYPES.has(p.resourceType) || !ns.owns(p.resourceName)) return null;
  if (p.patternType === PatternType.PREFIXED && p.resourceName === ns.prefix) return { ...p, resourceName: WILDCARD, patternType: PatternType.LITERAL };
  return { ...p, resourceName: ns.out(p.resourceName) };
}

export function createAcls({ ns }: TenantContext, req: CreateAclsRequest): ResponseFix {
  const refused = new Set<number>();
  req.creations.forEach((c, i) => {
    const p = patternIn(ns, { resourceType: c.resourceType, resourceName: c.resourceName, patternType: c.resourcePatternType ?? PatternType.LITERAL });
    if (p === null) {
      refused.add(i);
      c.resourceType = ResourceType.UNKNOWN; // the handler refuses it; the message is replaced below
      return;
    }
    c.resourceName = p.resourceName;
    c.resourcePatternType = p.patternType;
  });
  return (res) => {
    const r = res as CreateAclsResponse;
    r.results.forEach((result, i) => {
      if (refused.has(i)) {
        result.errorCode = ErrorCode.INVALID_REQUEST;
        result.errorMessage = NOT_FOR_TENANTS;
      } else result.errorMessage = ns.text(result.errorMessage);
    });
  };
}

export function describeAcls({ ns }: TenantContext, req: DescribeAclsRequest): ResponseFix {
  const original: AclBindingFilter = {
    resourceType: req.resourceTypeFilter, resourceName: req.resourceNameFilter, patternType: req.patternTypeFilter ?? PatternType.LITERAL,
    principal: req.principalFilter, host: req.hostFilter, operation: req.operation, permissionType: req.permissionType,
  };
  // Ask for every binding of the type (authorization and SECURITY_DISABLED stay the handler's), then filter here.
  req.resourceNameFilter = null;
  req.patternTypeFilter = PatternType.ANY;
  return (res) => {
    const r = res as DescribeAclsResponse;
    const out: DescribeAclsResponse["resources"] = [];
    for (const resource of r.resources) {
      const p = patternOut(ns, { resourceType: resource.resourceType, resourceName: resource.resourceName, patternType: resource.patternType ?? PatternType.LITERAL });
      if (p === null) continue;
      const acls = resource.acls.filter((a) => filterMatches(original, { ...p, ...a }));
      if (acls.length > 0) out.push({ ...p, acls });
    }
    r.resources = out;
  };
}

/**
 * DeleteAcls: each client filter is resolved here against the tenant's bindings and sent on as one
 * exact filter per matching binding (or one that matches nothing), so a broad filter cannot reach
 * another tenant's ACLs; the answers are merged back per client filter.
 */
export function deleteAcls({ ns }: TenantContext, req: DeleteAclsRequest, _version: number, ctx: RequestContext): ResponseFix {
  const mine: AclBinding[] = [];
  for (const b of aclServiceFor(ctx.broker).store.all()) {
    const p = patternOut(ns, b);
    if (p !== null) mine.push({ ...b, ...p });
  }
  const spans: number[] = [];
  const exact: DeleteAclsRequest["filters"] = [];
  for (const f of req.filters) {
    const filter: AclBindingFilter = {
      resourceType: f.resourceTypeFilter, resourceName: f.resourceNameFilter, patternType: f.patternTypeFilter ?? PatternType.LITERAL,
      principal: f.principalFilter, host: f.hostFilter, operation: f.operation, permissionType: f.permissionType,
    };
    const matches = mine.filter((b) => filterMatches(filter, b));
    spans.push(Math.max(1, matches.length));
    if (matches.length === 0) {
      exact.push({ ...f, resourceTypeFilter: ResourceType.TOPIC, resourceNameFilter: `${ns.prefix}\u0000none`, patternTypeFilter: PatternType.LITERAL });
      continue;
    }
    for (const b of matches) {
      const p = patternIn(ns, b)!;
      exact.push({
        resourceTypeFilter: p.resourceType, resourceNameFilter: p.resourceName, patternTypeFilter: p.patternType,
        principalFilter: b.principal, hostFilter: b.host, operation: b.operation, permissionType: b.permissionType,
      });
    }
  }
  req.filters = exact;
  return (res) => {
    const r = res as DeleteAclsResponse;
    const merged: DeleteAclsResponse["filterResults"] = [];
    let at = 0;
    for (const span of spans) {
      const parts = r.filterResults.slice(at, at + span);
      at += span;
      const failed = parts.find((p) => p.errorCode !== ErrorCode.NONE);
      const matchingAcls = parts.flatMap((p) => p.matchingAcls).flatMap((m) => {
        const p = patternOut(ns, { resourceType: m.resourceType, resourceName: m.resourceName, patternType: m.patternType ?? PatternType.LITERAL });
        return p === null ? [] : [{ ...m, ...p }];
      });
      merged.push(failed ? { errorCode: failed.errorCode, errorMessage: failed.errorMessage, matchingAcls: [] } : { errorCode: ErrorCode.NONE, errorMessage: null, matchingAcls });
    }
    r.filterResults = merged;
  };
}
