/**
 * Which configured quota applies to a (user, client-id) pair, in Kafka's precedence order
 * (most specific first; the first entity that sets the key wins):
 *
 *   1. user=<u>, client-id=<c>        5. user=<default>, client-id=<default>
 *   2. user=<u>, client-id=<default>  6. user=<default>
 *   3. user=<u>                       7. client-id=<c>
 *   4. user=<default>, client-id=<c>  8. client-id=<default>
 *
 * The matched entity also decides who shares the rate sensor: the sensor is keyed by the actual user
 * and/or client-id of the components the entity has (a `user=<default>` quota gives every user its
 * own budget of that size, as Kafka's default quota callback does).
 */
import type { QuotaEntity, QuotaValues } from "./entity.ts";

export interface ResolvedQuota {
  /** Quota in the key's unit (bytes/s or percent); Infinity when no entity sets the key. */
  limit: number;
  /** Sensor key: who shares this budget. */
  sensorKey: string;
}

export function candidateEntities(user: string, clientId: string): QuotaEntity[] {
  return [
    { user, clientId },
    { user, clientId: null },
    { user },
    { user: null, clientId },
    { user: null, clientId: null },
    { user: null },
    { clientId },
    { clientId: null },
  ];
}

export function resolveQuota(lookup: (e: QuotaEntity) => QuotaValues | undefined, user: string, clientId: string, key: string): ResolvedQuota {
  for (const e of candidateEntities(user, clientId)) {
    const v = lookup(e)?.[key];
    if (v === undefined) continue;
    const hasUser = e.user !== undefined;
    const hasClient = e.clientId !== undefined;
    const sensorKey = `${hasUser ? `u:${user}` : ""}|${hasClient ? `c:${clientId}` : ""}`;
    return { limit: v, sensorKey };
  }
  return { limit: Number.POSITIVE_INFINITY, sensorKey: `u:${user}|c:${clientId}` };
}
