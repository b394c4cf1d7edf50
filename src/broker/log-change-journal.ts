/**
 * The logs whose high watermark or log start offset moved, in the order they moved, as a ring of
 * the most recent changes. An incremental fetch session remembers the journal position of its last
 * response and on its next request looks only at the logs that changed since (plus the partitions
 * the request names and those it left with unread data), instead of at every partition it holds: a
 * consumer of a 1000-partition topic fetches hundreds of times a second, and checking all thousand
 * partitions three times per request was a tenth of the broker's event loop at 1000 partitions ×
 * 60 MiB/s (bench/RESULTS.md, session 20). A session that fell further behind than the ring holds
 * checks every partition, as before.
 */
import type { PartitionLog } from "../log/partition-log.ts";

export const LOG_CHANGE_JOURNAL_CAPACITY = 1 << 16;

/**
 * The ring holds small numbers, not references: logs are registered once (an id each) and the ring
 * records ids. A JS array of 65 536 references written on every append stays in the collector's
 * remembered set, so every young collection scanned all of it on the event loop.
 */
export class LogChangeJournal {
  private readonly ring: Int32Array;
  private next = 0;
  /** Registered logs by id; a deleted log's slot is undefined until the id is taken again. */
  private readonly logs: (PartitionLog | undefined)[] = [];
  private readonly ids = new Map<PartitionLog, number>();
  private readonly freeIds: number[] = [];

  constructor(private readonly capacity = LOG_CHANGE_JOURNAL_CAPACITY) {
    this.ring = new Int32Array(capacity);
  }

  /** The position after the latest change (what a reader passes to `since` next time). */
  get position(): number {
    return this.next;
  }

  /** Gives `log` its id (the same one if it has one already). */
  register(log: PartitionLog): number {
    const known = this.ids.get(log);
    if (known !== undefined) return known;
    const id = this.freeIds.pop() ?? this.logs.length;
    this.logs[id] = log;
    this.ids.set(log, id);
    return id;
  }

  /**
   * The log is gone: its id may go to a later log. Changes it recorded that a reader has not seen
   * yet then name that later log (or nothing): a reader only looks at it once more than needed.
   */
  unregister(log: PartitionLog): void {
    const id = this.ids.get(log);
    if (id === undefined) return;
    this.ids.delete(log);
    this.logs[id] = undefined;
    this.freeIds.push(id);
  }

  /** Records a change of the log registered under `id`. */
  record(id: number): void {
    this.ring[this.next % this.capacity] = id;
    this.next++;
  }

  /**
   * Calls `visit` with every log changed at or after position `from` (a log that changed several
   * times comes several times; a log deleted since is left out). Returns false, visiting nothing,
   * when changes from `from` on are no longer all held (the caller must then look at everything).
   */
  since(from: number, visit: (log: PartitionLog) => void): boolean {
    if (from < 0 || from > this.next || this.next - from > this.capacity) return false;
    for (let at = from; at < this.next; at++) {
      const log = this.logs[this.ring[at % this.capacity] as number];
      if (log !== undefined) visit(log);
    }
    return true;
  }
}
