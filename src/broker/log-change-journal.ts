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

export class LogChangeJournal {
  private readonly ring: (PartitionLog | undefined)[];
  private next = 0;

  constructor(private readonly capacity = LOG_CHANGE_JOURNAL_CAPACITY) {
    this.ring = new Array<PartitionLog | undefined>(capacity);
  }

  /** The position after the latest change (what a reader passes to `since` next time). */
  get position(): number {
    return this.next;
  }

  record(log: PartitionLog): void {
    this.ring[this.next % this.capacity] = log;
    this.next++;
  }

  /**
   * Calls `visit` with every log changed at or after position `from` (a log that changed several
   * times comes several times). Returns false, visiting nothing, when changes from `from` on are no
   * longer all held (the caller must then look at everything).
   */
  since(from: number, visit: (log: PartitionLog) => void): boolean {
    if (from < 0 || from > this.next || this.next - from > this.capacity) return false;
    for (let at = from; at < this.next; at++) visit(this.ring[at % this.capacity] as PartitionLog);
    return true;
  }
}
