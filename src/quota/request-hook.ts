/**
 * The dispatch-side hook: after a handler has produced its response object, measure what the
 * request used (Produce: record-batch bytes in; Fetch: record-batch bytes out; every non-exempt API:
 * handler time), ask the quota manager for the throttle time, write it into the response's
 * throttleTimeMs (keeping a larger one the handler set) and mute the connection for that long
 * (KIP-219: answer first, then stop reading).
 */
import type { RequestContext } from "../handlers/handler.ts";
import { userOfPrincipal } from "./entity.ts";
import { quotaManagerFor } from "./registry.ts";
import type { TenantQuotaLimits } from "./tenant-quotas.ts";

const PRODUCE = 0;
const FETCH = 1;
/** Not subject to request_percentage (Kafka exempts these too: a client must be able to connect). */
const REQUEST_QUOTA_EXEMPT: ReadonlySet<number> = new Set([17, 18, 36]);

interface ProduceLike {
  topicData?: { partitionData?: { records: Uint8Array | null }[] }[];
}
interface FetchResponseLike {
  responses?: { partitions?: { records: Uint8Array | null }[] }[];
}

export function produceBytes(req: unknown): number {
  let n = 0;
  for (const t of (req as ProduceLike).topicData ?? []) for (const p of t.partitionData ?? []) n += p.records?.length ?? 0;
  return n;
}

export function fetchBytes(res: unknown): number {
  let n = 0;
  for (const t of (res as FetchResponseLike).responses ?? []) for (const p of t.partitions ?? []) n += p.records?.length ?? 0;
  return n;
}

/**
 * Records the request's usage; returns `res` with throttleTimeMs set, and mutes the connection.
 * `tenant`: the limits of the connection's tenant, enforced on top of its client quotas.
 */
export function applyQuotas(ctx: RequestContext, apiKey: number, req: unknown, res: unknown, handlerMs: number, tenant: TenantQuotaLimits | null = null): unknown {
  const quotas = quotaManagerFor(ctx.broker);
  const now = Date.now();
  const user = userOfPrincipal(ctx.conn.principal);
  const clientId = tenant === null ? (ctx.clientId ?? "") : tenant.clientIdPrefix + (ctx.clientId ?? "");
  let throttle = 0;
  const isObject = typeof res === "object" && res !== null;
  if (apiKey === PRODUCE) {
    const bytes = produceBytes(req);
    throttle = quotas.record("produce", user, clientId, bytes, now, tenant);
    if (tenant) throttle = Math.max(throttle, quotas.tenants.record("produce", tenant, bytes, now));
  } else if (apiKey === FETCH && isObject) {
    const bytes = fetchBytes(res);
    throttle = quotas.record("fetch", user, clientId, bytes, now, tenant);
    if (tenant) throttle = Math.max(throttle, quotas.tenants.record("fetch", tenant, bytes, now));
  }
  if (!REQUEST_QUOTA_EXEMPT.has(apiKey)) {
    throttle = Math.max(throttle, quotas.record("request", user, clientId, handlerMs / 10, now));
    if (tenant) throttle = Math.max(throttle, quotas.tenants.record("requests", tenant, 1, now));
  }
  if (throttle <= 0) return res;
  if (isObject && "throttleTimeMs" in res) {
    const r = res as { throttleTimeMs: number };
    r.throttleTimeMs = Math.max(r.throttleTimeMs, throttle);
  }
  ctx.conn.throttle?.(throttle);
  return res;
}
