/**
 * Client quota enforcement (KIP-13, KIP-124, KIP-219). Three quota types, each with rate sensors
 * keyed by the entity that supplied the quota (see resolution.ts):
 *
 *   produce  producer_byte_rate   bytes of record batches in Produce requests
 *   fetch    consumer_byte_rate   bytes of record batches in Fetch responses
 *   request  request_percentage   handler time, as percent of one thread (ms per second / 10)
 *
 * `record()` adds the value and returns the KIP-219 throttle time: the caller answers at once with
 * throttle_time_ms set and then mutes the connection for that long. Produce and fetch also feed the
 * broker-wide backpressure (backpressure.ts); the larger of the two throttle times wins.
 */
import { Backpressure } from "./backpressure.ts";
import { CONSUMER_BYTE_RATE, PRODUCER_BYTE_RATE, REQUEST_PERCENTAGE, type QuotaEntity, type QuotaValues } from "./entity.ts";
import { ConnectionQuotas } from "./connection-quotas.ts";
import type { QuotaConfig } from "./quota-config.ts";
import type { QuotaStore } from "./quota-store.ts";
import { resolveQuota, type ResolvedQuota } from "./resolution.ts";
import { SampledRate, burstThrottleMs, throttleTimeMs } from "./sampled-rate.ts";
import { TenantQuotas, type TenantQuotaLimits } from "./tenant-quotas.ts";

export type QuotaType = "produce" | "fetch" | "request";

const KEY_OF: Record<QuotaType, string> = { produce: PRODUCER_BYTE_RATE, fetch: CONSUMER_BYTE_RATE, request: REQUEST_PERCENTAGE };
const SWEEP_EVERY_MS = 60_000;
/** Backpressure parties of tenants (src/tenant) are keyed apart from user names. */
const TENANT_PARTY = "\u0001tenant:";
/** Byte quotas: one window may take at most this many windows' worth of quota (see burstThrottleMs). */
const BURST_WINDOWS = 1;

export class QuotaManager {
  private readonly sensors: Record<QuotaType, Map<string, SampledRate>> = { produce: new Map(), fetch: new Map(), request: new Map() };
  private readonly resolved = new Map<string, ResolvedQuota>();
  private resolvedGeneration = -1;
  private lastSweepMs = 0;
  readonly maxThrottleMs: number;
  readonly backpressure: { produce: Backpressure; fetch: Backpressure };
  readonly connections: ConnectionQuotas;
  /** Per-tenant limits from capacity units (src/tenant). */
  readonly tenants: TenantQuotas;
  private readonly tenantParties = new Map<string, TenantQuotaLimits>();

  constructor(
    readonly store: QuotaStore,
    readonly config: QuotaConfig,
  ) {
    // Never mute longer than the whole measured span: after that the window has forgotten the burst.
    this.maxThrottleMs = config.numWindows * config.windowMs;
    const bp = (capacity: number) => new Backpressure(capacity, config.threshold, config.numWindows, config.windowMs, this.maxThrottleMs);
    this.backpressure = { produce: bp(config.ingressCapacity), fetch: bp(config.egressCapacity) };
    this.connections = new ConnectionQuotas(config, (ip) => this.lookupIp(ip));
    this.tenants = new TenantQuotas(config);
  }

  /** The quota (and sensor) that applies to a user and client-id for one quota type. */
  quotaFor(type: QuotaType, user: string, clientId: string): ResolvedQuota {
    if (this.resolvedGeneration !== this.store.generation) {
      this.resolved.clear();
      this.resolvedGeneration = this.store.generation;
    }
    const cacheKey = `${type}\u0000${user}\u0000${clientId}`;
    let r = this.resolved.get(cacheKey);
    if (!r) {
      r = resolveQuota((e: QuotaEntity): QuotaValues | undefined => this.store.get(e), user, clientId, KEY_OF[type]);
      if (this.resolved.size > 10_000) this.resolved.clear();
      this.resolved.set(cacheKey, r);
    }
    return r;
  }

  /**
   * Records `value` and returns the throttle time in ms (0: within quota). `tenant`: the connection's
   * tenant, which is then the backpressure party (weighted by its units) instead of the user.
   */
  record(type: QuotaType, user: string, clientId: string, value: number, nowMs: number, tenant: TenantQuotaLimits | null = null): number {
    this.maybeSweep(nowMs);
    const q = this.quotaFor(type, user, clientId);
    let throttle = 0;
    if (Number.isFinite(q.limit)) {
      const sensors = this.sensors[type];
      let rate = sensors.get(q.sensorKey);
      if (!rate) {
        rate = new SampledRate(this.config.numWindows, this.config.windowMs);
        sensors.set(q.sensorKey, rate);
      }
      rate.record(value, nowMs);
      throttle = throttleTimeMs(rate, q.limit, nowMs, this.maxThrottleMs);
      if (type !== "request") throttle = Math.max(throttle, burstThrottleMs(rate, q.limit, BURST_WINDOWS, nowMs));
    }
    if (type !== "request") {
      const bp = this.backpressure[type];
      if (bp.enabled) {
        let party = user;
        if (tenant) {
          party = TENANT_PARTY + tenant.id;
          this.tenantParties.set(party, tenant);
        }
        throttle = Math.max(throttle, bp.record(party, value, nowMs, (t) => this.partyWeight(type, t)));
      }
    }
    return throttle;
  }

  /** Backpressure weight: a tenant's units' rate, else the user's own quota. */
  private partyWeight(type: QuotaType, party: string): number {
    const tenant = party.startsWith(TENANT_PARTY) ? this.tenantParties.get(party) : undefined;
    if (tenant === undefined) return this.tenantQuota(type, party);
    return type === "produce" ? tenant.produceBytesPerSec : tenant.fetchBytesPerSec;
  }

  /** A tenant's own user-level quota (user=<u>, else user=<default>), Infinity when it has none. */
  tenantQuota(type: QuotaType, user: string): number {
    const key = KEY_OF[type];
    return this.store.get({ user })?.[key] ?? this.store.get({ user: null })?.[key] ?? Number.POSITIVE_INFINITY;
  }

  private lookupIp(ip: string): number {
    return this.store.get({ ip })?.connection_creation_rate ?? this.store.get({ ip: null })?.connection_creation_rate ?? Number.POSITIVE_INFINITY;
  }

  private maybeSweep(nowMs: number): void {
    if (nowMs - this.lastSweepMs < SWEEP_EVERY_MS) return;
    this.lastSweepMs = nowMs;
    for (const sensors of Object.values(this.sensors)) {
      for (const [k, r] of sensors) if (r.idle(nowMs)) sensors.delete(k);
    }
  }
}
