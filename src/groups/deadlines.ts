/**
 * Keyed deadlines behind one timer (member session timeouts, pending-member expiry, rebalance
 * timeouts). Setting a key replaces its deadline; the single timer is armed for the earliest one.
 * A heartbeat only moves a deadline later, which never re-arms the timer: when the timer fires it
 * runs what is due and re-arms for the new minimum, so a busy group costs a scan per firing, not a
 * timer per member.
 */
import { timerDelay } from "../util/long-timeout.ts";

interface Entry {
  deadline: number;
  fire: () => void;
}

export class DeadlineScheduler {
  private readonly entries = new Map<string, Entry>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private armedFor = Infinity;
  private stopped = false;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  get size(): number {
    return this.entries.size;
  }

  set(key: string, deadline: number, fire: () => void): void {
    if (this.stopped) return;
    this.entries.set(key, { deadline, fire });
    if (deadline < this.armedFor) this.arm(deadline);
  }

  cancel(key: string): void {
    this.entries.delete(key);
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  deadlineOf(key: string): number | undefined {
    return this.entries.get(key)?.deadline;
  }

  /** Runs every entry due at `now` (tests call this with a fake clock). */
  runDue(): void {
    const now = this.now();
    const due: [string, Entry][] = [];
    for (const [key, e] of this.entries) if (e.deadline <= now) due.push([key, e]);
    for (const [key, e] of due) {
      // An earlier callback may have replaced or cancelled this key.
      if (this.entries.get(key) !== e) continue;
      this.entries.delete(key);
      try {
        e.fire();
      } catch (err) {
        this.onError(err); // one failing callback must not stop the others
      }
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.entries.clear();
  }

  private arm(deadline: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = deadline;
    this.timer = setTimeout(() => this.onTimer(), timerDelay(deadline - this.now()));
    this.timer.unref?.();
  }

  private onTimer(): void {
    this.timer = null;
    this.armedFor = Infinity;
    this.runDue();
    let min = Infinity;
    for (const e of this.entries.values()) if (e.deadline < min) min = e.deadline;
    if (min !== Infinity && !this.stopped) this.arm(min);
  }
}
