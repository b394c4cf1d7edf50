/**
 * Group commit: one sync covers every request queued before it starts. While a sync runs, new
 * requests queue for the next one, so N concurrent appenders cost about two fsyncs, not N.
 * The sync itself (what to fsync, which offset becomes committed) belongs to the caller.
 */
interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class GroupCommit {
  private queued: Waiter[] = [];
  private running = false;
  private scheduled = false;
  /** Number of syncs started; tests and benchmarks read it. */
  syncs = 0;

  constructor(private readonly sync: () => Promise<void>) {}

  /** Resolves once a sync that started after this call has completed; rejects if it failed. */
  request(): Promise<void> {
    const p = new Promise<void>((resolve, reject) => this.queued.push({ resolve, reject }));
    this.kick();
    return p;
  }

  /** True while syncs are queued or running. */
  get busy(): boolean {
    return this.running || this.queued.length > 0;
  }

  private kick(): void {
    if (this.running || this.scheduled || this.queued.length === 0) return;
    // Deferred to a microtask so appends made in the same synchronous run share the first sync.
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      void this.run();
    });
  }

  private async run(): Promise<void> {
    if (this.running || this.queued.length === 0) return;
    this.running = true;
    const batch = this.queued;
    this.queued = [];
    this.syncs++;
    try {
      await this.sync();
      for (const w of batch) w.resolve();
    } catch (err) {
      for (const w of batch) w.reject(err);
    } finally {
      this.running = false;
      this.kick();
    }
  }
}
