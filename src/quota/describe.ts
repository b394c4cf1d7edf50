/**
 * DescribeClientQuotas filtering (KIP-546): each filter component names an entity type and a match
 * (0 = exact name, 1 = the default entity, 2 = any specified, i.e. non-default, name). An entity
 * matches when it has every filtered type with a matching name; with `strict` it must have no other
 * types. Malformed filters (unknown type or match type, a type twice, a name where none belongs or
 * none for an exact match) are INVALID_REQUEST.
 */
import { CLIENT_ID, ENTITY_TYPES, USER, type QuotaEntity } from "./entity.ts";
import type { QuotaEntry } from "./quota-store.ts";

export interface FilterComponent {
  entityType: string;
  matchType: number;
  match: string | null;
}

const EXACT = 0;
const DEFAULT = 1;
const SPECIFIED = 2;

function nameOf(e: QuotaEntity, type: string): string | null | undefined {
  return type === USER ? e.user : type === CLIENT_ID ? e.clientId : e.ip;
}

/** An error message, or null when the filter is well formed. */
export function checkFilter(components: FilterComponent[]): string | null {
  const types = new Set<string>();
  for (const c of components) {
    if (!ENTITY_TYPES.includes(c.entityType)) return `Custom entity type ${c.entityType} not supported`;
    if (types.has(c.entityType)) return `Duplicate ${c.entityType} filter component`;
    types.add(c.entityType);
    if (c.matchType === EXACT && c.match === null) return `Exact match of ${c.entityType} needs a name`;
    if ((c.matchType === DEFAULT || c.matchType === SPECIFIED) && c.match !== null) return `Match type ${c.matchType} of ${c.entityType} takes no name`;
    if (c.matchType !== EXACT && c.matchType !== DEFAULT && c.matchType !== SPECIFIED) return `Unknown match type ${c.matchType}`;
  }
  return null;
}

export function matchesFilter(e: QuotaEntity, components: FilterComponent[], strict: boolean): boolean {
  for (const c of components) {
    const name = nameOf(e, c.entityType);
    if (name === undefined) return false;
    if (c.matchType === EXACT && name !== c.match) return false;
    if (c.matchType === DEFAULT && name !== null) return false;
    if (c.matchType === SPECIFIED && name === null) return false;
  }
  if (strict) {
    const own = (e.user !== undefined ? 1 : 0) + (e.clientId !== undefined ? 1 : 0) + (e.ip !== undefined ? 1 : 0);
    if (own !== components.length) return false;
  }
  return true;
}

export function describeEntries(all: QuotaEntry[], components: FilterComponent[], strict: boolean): QuotaEntry[] {
  return all.filter((q) => matchesFilter(q.entity, components, strict));
}
