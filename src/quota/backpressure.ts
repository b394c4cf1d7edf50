/**
 * Broker-wide backpressure (the Kora idea, simple version). Each tenant (user principal) has a
 * weight: its own user-level quota for the resource, or the whole broker capacity C when it has
 * none. While the broker's measured rate R stays below threshold × C nothing changes. Once
 * R >= threshold × C, every *active* tenant t (one that used the resource within the quota windows)
 * is held to
 *
 *     effective(t) = min(quota(t), C × weight(t) / Σ weight(active tenants))
 *
 * so the capacity is split in proportion to the tenants' entitlements and a tenant that floods the
 * broker is cut back to its share instead of starving the others. The shrunken limit is enforced on
 * the tenant's own windowed rate with the ordinary KIP-219 throttle time.
 */
import { SampledRate, throttleTimeMs } from "./sampled-rate.ts";

export class Backpressure {
  readonly broker: SampledRate;
  private readonly tenants = new Map<string, SampledRate>();

  constructor(
    readonly capacity: number,
    readonly threshold: number,
    private readonly numWindows: number,
    private readonly windowMs: number,
    private readonly maxThrottleMs: number,
  ) {
    this.broker = new SampledRate(numWindows, windowMs);
  }

  get enabled(): boolean {
    return Number.isFinite(this.capacity);
  }

  /** Records `value` for a tenant; returns the backpressure throttle time (0 below the threshold). */
  record(tenant: string, value: number, nowMs: number, weightOf: (tenant: string) => number): number {
    if (!this.enabled) return 0;
    this.broker.record(value, nowMs);
    let rate = this.tenants.get(tenant);
    if (!rate) {
      rate = new SampledRate(this.numWindows, this.windowMs);
      this.tenants.set(tenant, rate);
    }
    rate.record(value, nowMs);
    if (this.broker.rate(nowMs) < this.threshold * this.capacity) return 0;
    return throttleTimeMs(rate, this.effectiveLimit(tenant, nowMs, weightOf), nowMs, this.maxThrottleMs);
  }

  /** The tenant's share of the capacity: C × weight / Σ weight over active tenants. */
  effectiveLimit(tenant: string, nowMs: number, weightOf: (tenant: string) => number): number {
    let sum = 0;
    for (const [t, r] of this.tenants) {
      if (r.idle(nowMs)) {
        if (t !== tenant) this.tenants.delete(t);
        continue;
      }
      sum += boundedWeight(weightOf(t), this.capacity);
    }
    const own = boundedWeight(weightOf(tenant), this.capacity);
    if (sum <= 0) return this.capacity;
    return Math.min(weightOf(tenant), (this.capacity * own) / sum);
  }
}

function boundedWeight(quota: number, capacity: number): number {
  return Number.isFinite(quota) ? Math.min(quota, capacity) : capacity;
}
