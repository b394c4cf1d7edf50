/**
 * AlterClientQuotas checks (KIP-546), per entry, every failure INVALID_REQUEST with a message:
 * an empty entity, an unknown or repeated entity type, `ip` mixed with other types, an ip name that
 * is not an IP address, the same entity twice in one request, an unknown key or one that does not
 * fit the entity (connection_creation_rate only on ip entities, the byte/request keys never on
 * them), a key twice in one entry, a value that is not a positive finite number, and a
 * non-integral value for the integer keys (byte rates, connection creation rate).
 */
import { isIP } from "node:net";
import { ErrorCode } from "../protocol/error-codes.ts";
import { CLIENT_ID, CLIENT_KEYS, ENTITY_TYPES, IP, IP_KEYS, REQUEST_PERCENTAGE, USER, entityKey, type QuotaEntity } from "./entity.ts";

export interface AlterEntryIn {
  entity: { entityType: string; entityName: string | null }[];
  ops: { key: string; value: number; remove: boolean }[];
}

export type CheckedEntry =
  | { ok: true; entity: QuotaEntity; changes: Record<string, number | null> }
  | { ok: false; errorCode: number; errorMessage: string };

const invalid = (errorMessage: string): CheckedEntry => ({ ok: false, errorCode: ErrorCode.INVALID_REQUEST, errorMessage });

export function parseEntity(components: { entityType: string; entityName: string | null }[]): QuotaEntity | string {
  if (components.length === 0) return "Invalid empty client quota entity";
  const e: QuotaEntity = {};
  for (const c of components) {
    if (!ENTITY_TYPES.includes(c.entityType)) return `Unhandled client quota entity type: ${c.entityType}`;
    const field = c.entityType === USER ? "user" : c.entityType === CLIENT_ID ? "clientId" : "ip";
    if (e[field] !== undefined) return `Duplicate ${c.entityType} entity type in the client quota entity`;
    e[field] = c.entityName;
  }
  if (e.ip !== undefined && (e.user !== undefined || e.clientId !== undefined)) return "Invalid quota entity combination: ip entities cannot be combined with user or client-id";
  if (e.ip !== undefined && e.ip !== null && isIP(e.ip) === 0) return `${e.ip} is not a valid IP address`;
  return e;
}

export function checkAlterEntry(entry: AlterEntryIn): CheckedEntry {
  const parsed = parseEntity(entry.entity);
  if (typeof parsed === "string") return invalid(parsed);
  const allowed = parsed.ip !== undefined ? IP_KEYS : CLIENT_KEYS;
  const changes: Record<string, number | null> = {};
  for (const op of entry.ops) {
    if (![...CLIENT_KEYS, ...IP_KEYS].includes(op.key)) return invalid(`Invalid configuration key ${op.key}`);
    if (!allowed.includes(op.key)) return invalid(`Quota key ${op.key} cannot be set on a ${parsed.ip !== undefined ? IP : `${USER}/${CLIENT_ID}`} entity`);
    if (op.key in changes) return invalid(`Duplicate quota key ${op.key} in one entity`);
    if (op.remove) {
      changes[op.key] = null;
      continue;
    }
    if (!Number.isFinite(op.value) || op.value <= 0) return invalid(`Quota ${op.key} must be a positive number, got ${op.value}`);
    if (op.key !== REQUEST_PERCENTAGE && !Number.isInteger(op.value)) return invalid(`Quota ${op.key} must be a whole number, got ${op.value}`);
    changes[op.key] = op.value;
  }
  return { ok: true, entity: parsed, changes };
}

/** Checks every entry; an entity named twice fails both times it appears after the first. */
export function checkAlterRequest(entries: AlterEntryIn[]): CheckedEntry[] {
  const seen = new Set<string>();
  return entries.map((entry) => {
    const checked = checkAlterEntry(entry);
    if (!checked.ok) return checked;
    const key = entityKey(checked.entity);
    if (seen.has(key)) return invalid("Duplicate quota entity in the request");
    seen.add(key);
    return checked;
  });
}

