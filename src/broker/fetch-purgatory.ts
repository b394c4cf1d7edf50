/**
 * Long-poll fetches wait here (Kafka's "purgatory"). A waiting fetch registers on the partition logs
 * it reads; an advance of one of those logs' high watermark re-checks exactly those waiters. Deadlines
 * share one timer armed for the earliest one, so a thousand idle consumers cost one timer, not a
 * thousand.
 */
import type { PartitionLog } from "../log/partition-log.ts";
import { timerDelay } from "../util/long-timeout.ts";

interface Waiter {
  logs: readonly PartitionLog[];
  deadline: number;
  /** True once the fetch has enough to answer (min_bytes reached); called after every advance. */
  ready: () => boolean;
  resolve: () => void;
  done: boolean;
}

export class FetchPurgatory {
  private readonly byLog = new Map<PartitionLog, Set<Waiter>>();
  private readonly waiters = new Set<Waiter>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timerDeadline = Infinity;

  get size(): number {
    return this.waiters.size;
  }

  /** Resolves when `ready()` turns true after an advance of one of `logs`, or at `deadline` (epoch ms). */
  wait(logs: readonly PartitionLog[], deadline: number, ready: () => boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      const waiter: Waiter = { logs, deadline, ready, resolve, done: false };
      this.waiters.add(waiter);
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
    const set = this.byLog.get(log);
    if (!set) return;
    for (const waiter of [...set]) {
      let ready: boolean;
      try {
        ready = waiter.ready();
      } catch {
        ready = true; // let the fetch handler run and report the problem itself
      }
      if (ready) this.complete(waiter);
    }
  }

  /** Answers every waiter now (broker shutdown). */
  completeAll(): void {
    for (const waiter of [...this.waiters]) this.complete(waiter);
  }

  private complete(waiter: Waiter): void {
    if (waiter.done) return;
    waiter.done = true;
    this.waiters.delete(waiter);
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
    for (const waiter of [...this.waiters]) {
      if (waiter.deadline <= now) this.complete(waiter);
      else if (waiter.deadline < next) next = waiter.deadline;
    }
    if (next < Infinity) this.arm(next);
  }
}
