/**
 * A token bucket (the rate limiter Kafka uses for KIP-599 controller mutations): `ratePerSec` tokens
 * flow in continuously, at most `burstSeconds` worth are kept; a use may drive the bucket negative,
 * and the debt, divided by the rate, is how long the client must wait. Unlike the windowed rate it
 * holds the long-run rate exactly and never mutes for longer than the debt takes to repay.
 */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    readonly ratePerSec: number,
    readonly burstSeconds: number,
    nowMs: number,
  ) {
    this.tokens = ratePerSec * burstSeconds;
    this.lastMs = nowMs;
  }

  /** Takes `value` tokens; returns the throttle time in ms (0 when the bucket is not in debt). */
  take(value: number, nowMs: number, maxThrottleMs: number): number {
    const cap = this.ratePerSec * this.burstSeconds;
    this.tokens = Math.min(cap, this.tokens + ((nowMs - this.lastMs) * this.ratePerSec) / 1000) - value;
    this.lastMs = nowMs;
    if (this.tokens >= 0) return 0;
    return Math.min(maxThrottleMs, Math.ceil((-this.tokens * 1000) / this.ratePerSec));
  }
}
