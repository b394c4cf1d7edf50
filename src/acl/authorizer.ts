/**
 * Kafka's StandardAuthorizer decision for one (principal, host, operation, resource):
 * - super users are allowed everything;
 * - the bindings that apply are those of the resource type whose pattern covers the name (the
 *   literal name, the literal `*`, or a prefix), whose principal is the caller or `User:*` and
 *   whose host is the caller's address or `*`;
 * - a DENY for the operation (or ALL) wins over any ALLOW;
 * - an ALLOW for the operation, ALL, or an operation that implies it (READ, WRITE, DELETE, ALTER
 *   imply DESCRIBE; ALTER_CONFIGS implies DESCRIBE_CONFIGS) allows;
 * - with no binding at all on the resource (for anyone), `allow.everyone.if.no.acl.found` decides;
 *   otherwise the answer is deny.
 * Decisions are cached per (principal, host, type, name, operation) and dropped when the ACLs change,
 * so the produce/fetch path costs one Map lookup.
 */
import type { AclStore } from "./acl-store.ts";
import { AclOperation, AclPermission, WILDCARD, WILDCARD_PRINCIPAL, type AclBinding } from "./types.ts";

export interface AuthorizerOptions {
  superUsers: readonly string[];
  allowEveryoneIfNoAclFound: boolean;
}

/** Largest number of cached decisions; the cache starts over when it is reached. */
const CACHE_LIMIT = 100_000;

export class Authorizer {
  private readonly superUsers: ReadonlySet<string>;
  private readonly allowIfNoAcl: boolean;
  private cache = new Map<string, boolean>();
  private cacheVersion = -1;

  constructor(readonly store: AclStore, opts: AuthorizerOptions) {
    this.superUsers = new Set(opts.superUsers);
    this.allowIfNoAcl = opts.allowEveryoneIfNoAclFound;
  }

  isSuperUser(principal: string): boolean {
    return this.superUsers.has(principal);
  }

  authorize(principal: string, host: string, operation: number, resourceType: number, resourceName: string): boolean {
    if (this.superUsers.has(principal)) return true;
    if (this.cacheVersion !== this.store.version) {
      this.cache = new Map();
      this.cacheVersion = this.store.version;
    }
    const key = `${principal}\u0000${host}\u0000${resourceType}\u0000${operation}\u0000${resourceName}`;
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const decision = this.decide(principal, host, operation, resourceType, resourceName);
    if (this.cache.size >= CACHE_LIMIT) this.cache = new Map();
    this.cache.set(key, decision);
    return decision;
  }

  /** The uncached decision (exported for the micro-benchmark). */
  decide(principal: string, host: string, operation: number, resourceType: number, resourceName: string): boolean {
    const t = this.store.forType(resourceType);
    if (!t) return this.allowIfNoAcl;
    let any = false;
    let allowed = false;
    const visit = (list: readonly AclBinding[] | undefined): boolean => {
      if (!list) return false;
      for (const b of list) {
        any = true;
        if (b.principal !== principal && b.principal !== WILDCARD_PRINCIPAL) continue;
        if (b.host !== host && b.host !== WILDCARD) continue;
        if (b.permissionType === AclPermission.DENY) {
          if (b.operation === operation || b.operation === AclOperation.ALL) return true;
        } else if (!allowed && allows(b.operation, operation)) allowed = true;
      }
      return false;
    };
    if (visit(t.literal.get(resourceName))) return false;
    if (visit(t.wildcard)) return false;
    const prefixed = t.prefixed.filter((b) => resourceName.startsWith(b.resourceName));
    if (visit(prefixed)) return false;
    if (!any) return this.allowIfNoAcl;
    return allowed;
  }
}

/** Whether an ALLOW binding for `granted` covers `requested`. */
export function allows(granted: number, requested: number): boolean {
  if (granted === requested || granted === AclOperation.ALL) return true;
  if (requested === AclOperation.DESCRIBE) {
    return granted === AclOperation.READ || granted === AclOperation.WRITE || granted === AclOperation.DELETE || granted === AclOperation.ALTER;
  }
  if (requested === AclOperation.DESCRIBE_CONFIGS) return granted === AclOperation.ALTER_CONFIGS;
  return false;
}

/** `::ffff:1.2.3.4` (an IPv4 client on a dual-stack socket) is `1.2.3.4` for host matching. */
export function normalizeHost(address: string): string {
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}
