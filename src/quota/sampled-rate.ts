/**
 * A rate over sliding sample windows, the way Kafka's quota sensors measure (SampledStat + Rate):
 * `numWindows` samples of `windowMs` each, aligned on multiples of windowMs. The rate is the sum of
 * the live samples divided by the time they span, and that span is never taken shorter than
 * `numWindows - 1` full windows, so a burst right after a quiet period is not divided by a tiny
 * elapsed time (Kafka's Rate.windowSize does the same).
 */
export class SampledRate {
  private readonly slots: Float64Array;
  private readonly values: Float64Array;
  private firstSlotSeen = Number.POSITIVE_INFINITY;

  constructor(
    readonly numWindows: number,
    readonly windowMs: number,
  ) {
    this.slots = new Float64Array(numWindows).fill(-1);
    this.values = new Float64Array(numWindows);
  }

  record(value: number, nowMs: number): void {
    const slot = Math.floor(nowMs / this.windowMs);
    const i = slot % this.numWindows;
    if (this.slots[i] !== slot) {
      this.slots[i] = slot;
      this.values[i] = 0;
    }
    this.values[i]! += value;
    if (slot < this.firstSlotSeen) this.firstSlotSeen = slot;
  }

  /** Removes a value recorded earlier in the current window (a request that was not served after all). */
  unrecord(value: number, nowMs: number): void {
    this.record(-value, nowMs);
  }

  /** What the current window holds so far. */
  current(nowMs: number): number {
    const slot = Math.floor(nowMs / this.windowMs);
    const i = slot % this.numWindows;
    return this.slots[i] === slot ? this.values[i]! : 0;
  }

  /** Sum of the samples still inside the window span. */
  total(nowMs: number): number {
    const current = Math.floor(nowMs / this.windowMs);
    let sum = 0;
    for (let i = 0; i < this.numWindows; i++) {
      const s = this.slots[i]!;
      if (s >= 0 && s > current - this.numWindows && s <= current) sum += this.values[i]!;
    }
    return sum;
  }

  /** The time the samples span, at least numWindows - 1 whole windows (Kafka's Rate.windowSize). */
  spanMs(nowMs: number): number {
    const current = Math.floor(nowMs / this.windowMs);
    let oldest = current;
    for (let i = 0; i < this.numWindows; i++) {
      const s = this.slots[i]!;
      if (s >= 0 && s > current - this.numWindows && s < oldest) oldest = s;
    }
    const elapsed = nowMs - oldest * this.windowMs;
    return Math.max(elapsed, (this.numWindows - 1) * this.windowMs);
  }

  /** Units per second. */
  rate(nowMs: number): number {
    return (this.total(nowMs) * 1000) / this.spanMs(nowMs);
  }

  /** True when nothing was recorded in the whole span (the sensor can be dropped). */
  idle(nowMs: number): boolean {
    const current = Math.floor(nowMs / this.windowMs);
    for (let i = 0; i < this.numWindows; i++) if (this.slots[i]! > current - this.numWindows) return false;
    return true;
  }
}

/**
 * KIP-219 throttle time: how long the client must stay silent for the windowed rate to fall back to
 * the quota, i.e. (rate - quota) / quota * span, capped at `maxMs`; 0 when the rate is within quota.
 */
export function throttleTimeMs(rate: SampledRate, quotaPerSec: number, nowMs: number, maxMs: number): number {
  if (!Number.isFinite(quotaPerSec)) return 0;
  const r = rate.rate(nowMs);
  if (r <= quotaPerSec) return 0;
  if (quotaPerSec <= 0) return maxMs;
  const ms = Math.round(((r - quotaPerSec) / quotaPerSec) * rate.spanMs(nowMs));
  return Math.min(ms, maxMs);
}

/**
 * Bunka's burst cap (not in Kafka): one window may hold at most `burst` windows' worth of quota;
 * past that the client is muted until the window ends. It stops the windowed rate from letting a
 * flooder take ten seconds of quota in its first second (and again whenever that window expires),
 * which would hurt the other tenants' latency and makes the achieved rate a sawtooth.
 */
export function burstThrottleMs(rate: SampledRate, quotaPerSec: number, burst: number, nowMs: number): number {
  if (!Number.isFinite(quotaPerSec)) return 0;
  if (rate.current(nowMs) <= (quotaPerSec * rate.windowMs * burst) / 1000) return 0;
  return rate.windowMs - (nowMs % rate.windowMs);
}
