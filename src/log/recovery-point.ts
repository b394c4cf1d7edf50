/**
 * `recovery-point`: the partition's recovery point (Kafka's `recovery-point-offset-checkpoint`,
 * kept per partition directory here), msgpack-encoded `{ v: 1, offset }`. Every segment that ends
 * at or below `offset` had its log and both index files fsynced, and its directory entry made
 * durable, before the value was written. So after a crash those segments need no walk: they are
 * resumed from their indexes (Segment.resume, which still checks that the indexes fit the file)
 * and only the segments from the recovery point on are walked and CRC-checked, like Kafka
 * recovers only the segments past its recovery point.
 *
 * The file is a hint that may only lag: it is written after the syncs it describes, with
 * writeFileAtomic, so a crash leaves the previous (smaller) value or the new one. A missing,
 * unreadable or stale value only costs a longer walk. It lives in the partition directory, so a
 * deleted and recreated partition never inherits the old log's value.
 */
import * as fs from "node:fs";
import { join } from "node:path";
import { pack, unpack } from "msgpackr";
import { writeFileAtomic } from "./atomic-file.ts";
import { RECOVERY_POINT_FILE } from "./file-names.ts";

/** The recovery point written for the log in `dir`, or null when there is none that decodes. */
export function readRecoveryPoint(dir: string): number | null {
  let value: unknown;
  try {
    value = unpack(fs.readFileSync(join(dir, RECOVERY_POINT_FILE)));
  } catch {
    return null; // missing or not msgpack: walk everything
  }
  if (typeof value !== "object" || value === null) return null;
  const offset = (value as { offset?: unknown }).offset;
  return typeof offset === "number" && Number.isSafeInteger(offset) && offset >= 0 ? offset : null;
}

/**
 * Writes a log's recovery point as it advances, one write at a time (a value that arrives while a
 * write is under way is written right after it; intermediate values are skipped). Write errors
 * are swallowed: the old value stays, which is always safe.
 */
export class RecoveryPointWriter {
  private writing: Promise<void> | null = null;
  private pending: number | null = null;

  /** @param written the value already on disk (null: none) */
  constructor(
    private readonly dir: string,
    private written: number | null,
  ) {}

  /** The value last known to be on disk, or null. */
  get onDisk(): number | null {
    return this.written;
  }

  /**
   * Records that everything below `offset` is durable (see the file comment); no-op unless it
   * advances (0 is what no file means: a new log writes its first value at its first sync
   * after a roll).
   */
  advance(offset: number): void {
    if (offset <= (this.written ?? 0)) return;
    if (this.pending !== null && offset <= this.pending) return;
    this.pending = offset;
    if (this.writing === null) this.writing = this.drain();
  }

  /** Resolves once no write is under way (close waits for it so the directory can be removed). */
  async settled(): Promise<void> {
    while (this.writing !== null) await this.writing;
  }

  private async drain(): Promise<void> {
    while (this.pending !== null) {
      const offset = this.pending;
      this.pending = null;
      try {
        await writeFileAtomic(join(this.dir, RECOVERY_POINT_FILE), pack({ v: 1, offset }));
        this.written = offset;
      } catch {
        // the directory went away (partition deleted) or the disk refused: keep the old value
      }
    }
    this.writing = null;
  }
}
