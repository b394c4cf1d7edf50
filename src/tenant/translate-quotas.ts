/**
 * Tenant translation of the client quota APIs. Inside a tenant, client ids are the tenant's own
 * (stored under its prefix, so tenant A's "app" and tenant B's "app" have separate quotas and
 * separate sensors), and user entities may name only the tenant's members. Default entities and ip
 * entities are broker-wide: a tenant may neither set nor see them.
 */
import type { AlterClientQuotasRequest } from "../protocol/generated/alter-client-quotas-request.ts";
import type { AlterClientQuotasResponse } from "../protocol/generated/alter-client-quotas-response.ts";
import type { DescribeClientQuotasRequest } from "../protocol/generated/describe-client-quotas-request.ts";
import type { DescribeClientQuotasResponse } from "../protocol/generated/describe-client-quotas-response.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { CLIENT_ID, USER } from "../quota/entity.ts";
import type { TenantContext } from "./tenant-context.ts";
import type { ResponseFix } from "./translator.ts";

const NOT_FOR_TENANTS = "A tenant's client quotas may only name its own client ids and users (no defaults, no ip entities).";
const MATCH_EXACT = 0;

interface Component {
  entityType: string;
  entityName: string | null;
}

/** Client component -> stored component, or null when the tenant may not name it. */
function componentIn(t: TenantContext, c: Component): Component | null {
  if (c.entityName === null) return null;
  if (c.entityType === CLIENT_ID) return { entityType: CLIENT_ID, entityName: t.ns.in(c.entityName) };
  if (c.entityType === USER && t.isMember(c.entityName)) return c;
  return null;
}

/** Stored component -> what the tenant sees, or null when it is not the tenant's. */
function componentOut(t: TenantContext, c: Component): Component | null {
  if (c.entityName === null) return null;
  if (c.entityType === CLIENT_ID) return t.ns.owns(c.entityName) ? { entityType: CLIENT_ID, entityName: t.ns.out(c.entityName) } : null;
  if (c.entityType === USER && t.isMember(c.entityName)) return c;
  return null;
}

export function alterClientQuotas(t: TenantContext, req: AlterClientQuotasRequest): ResponseFix {
  const refused = new Set<number>();
  const visible = req.entries.map((e) => e.entity.map((c) => ({ ...c })));
  req.entries.forEach((entry, i) => {
    const mapped = entry.entity.map((c) => componentIn(t, c));
    if (mapped.some((c) => c === null)) {
      refused.add(i);
      entry.entity = []; // refused by the handler as an empty entity; the message is replaced below
    } else entry.entity = mapped as Component[];
  });
  return (res) => {
    (res as AlterClientQuotasResponse).entries.forEach((e, i) => {
      e.entity = visible[i] ?? e.entity;
      if (refused.has(i)) {
        e.errorCode = ErrorCode.INVALID_REQUEST;
        e.errorMessage = NOT_FOR_TENANTS;
      } else e.errorMessage = t.ns.text(e.errorMessage);
    });
  };
}

export function describeClientQuotas(t: TenantContext, req: DescribeClientQuotasRequest): ResponseFix {
  for (const c of req.components) {
    if (c.entityType === CLIENT_ID && c.matchType === MATCH_EXACT && c.match !== null) c.match = t.ns.in(c.match);
  }
  return (res) => {
    const r = res as DescribeClientQuotasResponse;
    if (r.entries === null) return;
    const out: NonNullable<DescribeClientQuotasResponse["entries"]> = [];
    for (const e of r.entries) {
      const entity = e.entity.map((c) => componentOut(t, c));
      if (entity.every((c) => c !== null)) out.push({ ...e, entity: entity as Component[] });
    }
    r.entries = out;
  };
}
