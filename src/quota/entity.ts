/**
 * Client-quota entities and keys as Kafka names them (KIP-546): an entity is a set of
 * (type, name) components with type `user`, `client-id` or `ip`; a null name is the type's default
 * entity. Quota keys: `producer_byte_rate`, `consumer_byte_rate`, `request_percentage` (user /
 * client-id entities) and `connection_creation_rate` (ip entities only).
 */
export const USER = "user";
export const CLIENT_ID = "client-id";
export const IP = "ip";
export const ENTITY_TYPES: readonly string[] = [USER, CLIENT_ID, IP];

export const PRODUCER_BYTE_RATE = "producer_byte_rate";
export const CONSUMER_BYTE_RATE = "consumer_byte_rate";
export const REQUEST_PERCENTAGE = "request_percentage";
export const CONNECTION_CREATION_RATE = "connection_creation_rate";
export const CLIENT_KEYS: readonly string[] = [PRODUCER_BYTE_RATE, CONSUMER_BYTE_RATE, REQUEST_PERCENTAGE];
export const IP_KEYS: readonly string[] = [CONNECTION_CREATION_RATE];

/** One entity; an absent type is not part of it, a null name is that type's default. */
export interface QuotaEntity {
  user?: string | null;
  clientId?: string | null;
  ip?: string | null;
}

export type QuotaValues = Record<string, number>;

const DEFAULT_MARK = "\u0000<default>";

/** Canonical map key of an entity (component order fixed: user, client-id, ip). */
export function entityKey(e: QuotaEntity): string {
  const parts: string[] = [];
  if (e.user !== undefined) parts.push(`${USER}=${e.user ?? DEFAULT_MARK}`);
  if (e.clientId !== undefined) parts.push(`${CLIENT_ID}=${e.clientId ?? DEFAULT_MARK}`);
  if (e.ip !== undefined) parts.push(`${IP}=${e.ip ?? DEFAULT_MARK}`);
  return parts.join("\u0001");
}

/** The wire form (components in Kafka's order: user, client-id, ip). */
export function entityComponents(e: QuotaEntity): { entityType: string; entityName: string | null }[] {
  const out: { entityType: string; entityName: string | null }[] = [];
  if (e.user !== undefined) out.push({ entityType: USER, entityName: e.user });
  if (e.clientId !== undefined) out.push({ entityType: CLIENT_ID, entityName: e.clientId });
  if (e.ip !== undefined) out.push({ entityType: IP, entityName: e.ip });
  return out;
}

/** The user name of a principal (`User:alice` -> `alice`); quota user entities name the user, not the principal. */
export function userOfPrincipal(principal: string | undefined): string {
  if (principal === undefined) return "ANONYMOUS";
  return principal.startsWith("User:") ? principal.slice(5) : principal;
}
