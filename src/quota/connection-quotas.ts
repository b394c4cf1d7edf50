/**
 * Connection limits (KIP-402, KIP-612): `max.connections` (all listeners), `max.connections.per.ip`,
 * the broker-wide `max.connection.creation.rate` and the per-IP `connection_creation_rate` quota
 * (ip entities of AlterClientQuotas). Verdict on each accepted socket:
 *   - over a count limit or over its IP's creation rate: close it at once;
 *   - over the broker-wide creation rate: keep it but mute it (no reads) for the throttle time,
 *     the closest Bun allows to Kafka holding the acceptor.
 */
import type { QuotaConfig } from "./quota-config.ts";
import { SampledRate, throttleTimeMs } from "./sampled-rate.ts";

export type Admission = { admit: true; delayMs: number } | { admit: false; reason: string };

export class ConnectionQuotas {
  private total = 0;
  private readonly perIp = new Map<string, number>();
  private readonly brokerRate: SampledRate;
  private readonly ipRates = new Map<string, SampledRate>();

  constructor(
    private readonly config: QuotaConfig,
    private readonly ipRateQuota: (ip: string) => number,
  ) {
    this.brokerRate = new SampledRate(config.numWindows, config.windowMs);
  }

  get count(): number {
    return this.total;
  }

  /** Called for every new socket; an admitted one must be released with `release(ip)` when it closes. */
  admit(ip: string, nowMs: number): Admission {
    const fromIp = this.perIp.get(ip) ?? 0;
    if (this.total >= this.config.maxConnections) return { admit: false, reason: `max.connections (${this.config.maxConnections}) reached` };
    if (fromIp >= this.config.maxConnectionsPerIp) return { admit: false, reason: `max.connections.per.ip (${this.config.maxConnectionsPerIp}) reached for ${ip}` };
    const ipQuota = this.ipRateQuota(ip);
    if (Number.isFinite(ipQuota)) {
      let r = this.ipRates.get(ip);
      if (!r) {
        r = new SampledRate(this.config.numWindows, this.config.windowMs);
        this.ipRates.set(ip, r);
      }
      r.record(1, nowMs);
      if (r.rate(nowMs) > ipQuota) return { admit: false, reason: `connection_creation_rate (${ipQuota}/s) exceeded for ${ip}` };
    }
    this.brokerRate.record(1, nowMs);
    const delayMs = throttleTimeMs(this.brokerRate, this.config.maxConnectionCreationRate, nowMs, this.config.numWindows * this.config.windowMs);
    this.total++;
    this.perIp.set(ip, fromIp + 1);
    return { admit: true, delayMs };
  }

  release(ip: string): void {
    this.total = Math.max(0, this.total - 1);
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, n);
  }
}
