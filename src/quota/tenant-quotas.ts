/**
 * Tenant-level quotas: a tenant's produce bytes/s, fetch bytes/s and requests/s come from its
 * capacity units (src/tenant/unit.ts) and are shared by all its connections. They apply on top of
 * the client quotas (user / client-id) inside the tenant: the larger throttle time wins. Measured
 * and enforced like the client byte quotas (windowed rate, KIP-219 throttle, one-window burst cap).
 */
import { SampledRate, burstThrottleMs, throttleTimeMs } from "./sampled-rate.ts";
import type { QuotaConfig } from "./quota-config.ts";

export interface TenantQuotaLimits {
  /** Sensor key: the tenant's id. */
  readonly id: string;
  readonly produceBytesPerSec: number;
  readonly fetchBytesPerSec: number;
  readonly requestsPerSec: number;
}

export type TenantQuotaType = "produce" | "fetch" | "requests";

const BURST_WINDOWS = 1;

export class TenantQuotas {
  private readonly sensors = new Map<string, SampledRate>();
  private readonly maxThrottleMs: number;

  constructor(private readonly config: Pick<QuotaConfig, "numWindows" | "windowMs">) {
    this.maxThrottleMs = config.numWindows * config.windowMs;
  }

  /** Records `value` against the tenant's quota of `type`; returns the throttle time in ms. */
  record(type: TenantQuotaType, limits: TenantQuotaLimits, value: number, nowMs: number): number {
    const limit = type === "produce" ? limits.produceBytesPerSec : type === "fetch" ? limits.fetchBytesPerSec : limits.requestsPerSec;
    if (!Number.isFinite(limit)) return 0;
    const key = `${type}\u0000${limits.id}`;
    let rate = this.sensors.get(key);
    if (!rate) {
      rate = new SampledRate(this.config.numWindows, this.config.windowMs);
      this.sensors.set(key, rate);
    }
    rate.record(value, nowMs);
    return Math.max(throttleTimeMs(rate, limit, nowMs, this.maxThrottleMs), burstThrottleMs(rate, limit, BURST_WINDOWS, nowMs));
  }
}
