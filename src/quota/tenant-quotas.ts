/**
 * Tenant-level quotas: a tenant's produce bytes/s, fetch bytes/s and requests/s come from its
 * capacity units (src/tenant/unit.ts) and are shared by all its connections. They apply on top of
 * the client quotas (user / client-id) inside the tenant: the larger throttle time wins.
 *
 * Measured with a token bucket (one second of burst), not Kafka's windowed rate: a tenant quota is
 * a capacity the operator sold, and the bucket holds the long-run rate to it exactly, where the
 * windowed rate plus the burst cap under-delivered by up to 10 % under a flood (muting for a whole
 * window's share after every small overshoot). Enforced the KIP-219 way (throttle_time_ms + mute).
 */
import { TokenBucket } from "./token-bucket.ts";
import type { QuotaConfig } from "./quota-config.ts";

export interface TenantQuotaLimits {
  /** The tenant's id (for logs; buckets are keyed by this object). */
  readonly id: string;
  /** Prepended to client ids inside the tenant, so client quotas and their sensors are per tenant. */
  readonly clientIdPrefix: string;
  readonly produceBytesPerSec: number;
  readonly fetchBytesPerSec: number;
  readonly requestsPerSec: number;
}

export type TenantQuotaType = "produce" | "fetch" | "requests";

const BURST_SECONDS = 1;

export class TenantQuotas {
  /** Keyed by the limits object (one per tenant context), so the hot path builds no string keys. */
  private readonly buckets = new Map<TenantQuotaLimits, Partial<Record<TenantQuotaType, TokenBucket>>>();
  private readonly maxThrottleMs: number;

  constructor(config: Pick<QuotaConfig, "numWindows" | "windowMs">) {
    this.maxThrottleMs = config.numWindows * config.windowMs;
  }

  /** Records `value` against the tenant's quota of `type`; returns the throttle time in ms. */
  record(type: TenantQuotaType, limits: TenantQuotaLimits, value: number, nowMs: number): number {
    const limit = type === "produce" ? limits.produceBytesPerSec : type === "fetch" ? limits.fetchBytesPerSec : limits.requestsPerSec;
    if (!Number.isFinite(limit) || limit <= 0) return 0;
    let byType = this.buckets.get(limits);
    if (!byType) this.buckets.set(limits, (byType = {}));
    let bucket = byType[type];
    if (!bucket) bucket = byType[type] = new TokenBucket(limit, BURST_SECONDS, nowMs);
    return bucket.take(value, nowMs, this.maxThrottleMs);
  }
}
