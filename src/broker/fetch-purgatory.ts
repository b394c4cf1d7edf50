/**
 * Long-poll fetches wait here (Kafka's "purgatory"). A waiting fetch watches the partition logs it
 * reads; an advance of one of those logs' high watermark re-checks exactly the waiters watching it.
 * Deadlines share one timer armed for the earliest one, so a thousand idle consumers cost one timer,
 * not a thousand.
 *
 * Two ways to watch, by width: a fetch of a few partitions is indexed under each of its logs (many
 * narrow consumers, each woken only by its own partitions), while a fetch of many partitions — a
 * consumer of a 1000-partition topic, parked a thousand times a second at the log end — hands in a
 * Set of its logs once and is checked against every advance with one lookup, instead of being
 * registered under, and removed from, a thousand logs on every long poll.
 */
import type { PartitionLog } from "../log/partition-log.ts";
import { timerDelay } from "../util/long-timeout.ts";

/** Above this many logs a waiter is wide: not indexed per log, checked on every advance. */
export const INDEXED_MAX_LOGS = 32;

interface Waiter {
  /** Indexed waiters: their logs (each holds the waiter in byLog). Wide waiters: the set checked. */
  logs: readonly PartitionLog[] | ReadonlySet<PartitionLog>;
  wide: boolean;
  deadline: number;
  /** True once the fetch has enough to answer (min_bytes reached); called after every advance. */
  ready: () => boolean;
  resolve: () => void;
  done: boolean;
}

export class FetchPurgatory {
  private readonly byLog = new Map<PartitionLog, Set<Waiter>>();
  private readonly wide = new Set<Waiter>();
  private readonly waiters = new Set<Waiter>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timerDeadline = Infinity;

  get size(): number {
    return this.waiters.size;
  }

  /**
   * Resolves when `ready()` turns true after an advance of one of `logs`, or at `deadline` (epoch
   * ms). A set passed in is kept, not copied: the caller must not change it while the fetch waits.
   */
  wait(logs: readonly PartitionLog[] | ReadonlySet<PartitionLog>, deadline: number, ready: () => boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      const count = Array.isArray(logs) ? logs.length : (logs as ReadonlySet<PartitionLog>).size;
      const wide = count > INDEXED_MAX_LOGS;
      const waiter: Waiter = { logs: wide && Array.isArray(logs) ? new Set(logs) : logs, wide, deadline, ready, resolve, done: false };
      this.waiters.add(waiter);
      if (wide) this.wide.add(waiter);
      else
        for (const log of logs) {
          let set = this.byLog.get(log);
          if (!set) this.byLog.set(log, (set = new Set()));
          set.add(waiter);
        }
      if (deadline < this.timerDeadline) this.arm(deadline);
    });
  }

  /** Called when `log`'s high watermark (or log start offset) moved. */
  notify(log: PartitionLog): void {
    // Set iteration is live: a waiter completed meanwhile is deleted and not visited again.
    const set = this.byLog.get(log);
    if (set) for (const waiter of set) this.check(waiter);
    for (const waiter of this.wide) if ((waiter.logs as ReadonlySet<PartitionLog>).has(log)) this.check(waiter);
  }

  /** Answers every waiter now (broker shutdown). */
  completeAll(): void {
    for (const waiter of this.waiters) this.complete(waiter);
  }

  private check(waiter: Waiter): void {
    let ready: boolean;
    try {
      ready = waiter.ready();
    } catch {
      ready = true; // let the fetch handler run and report the problem itself
    }
    if (ready) this.complete(waiter);
  }

  private complete(waiter: Waiter): void {
    if (waiter.done) return;
    waiter.done = true;
    this.waiters.delete(waiter);
    if (waiter.wide) this.wide.delete(waiter);
    else
      for (const log of waiter.logs) {
        const set = this.byLog.get(log);
        if (!set) continue;
        set.delete(waiter);
        if (set.size === 0) this.byLog.delete(log);
      }
    waiter.resolve();
  }

  private arm(deadline: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timerDeadline = deadline;
    this.timer = setTimeout(() => this.expire(), timerDelay(deadline - Date.now()));
  }

  private expire(): void {
    this.timer = null;
    this.timerDeadline = Infinity;
    const now = Date.now();
    let next = Infinity;
    for (const waiter of this.waiters) {
      if (waiter.deadline <= now) this.complete(waiter);
      else if (waiter.deadline < next) next = waiter.deadline;
    }
    if (next < Infinity) this.arm(next);
  }
}
