/**
 * Sparse time index of one segment (`<base>.timeindex`).
 *
 * On-disk format: a flat array of 12-byte big-endian entries, no header, no checksum:
 *   timestamp      int64   the largest batch maxTimestamp in the segment up to this batch
 *   relativeOffset int32   baseOffset of that batch - segment baseOffset
 * An entry (T, o) promises: every batch with baseOffset <= o has maxTimestamp <= T. Entries are
 * strictly increasing in T and non-decreasing in o. They are added alongside offset-index entries
 * when the running max grew, and once more when the segment is sealed, so the last entry of a
 * sealed segment carries the segment's max timestamp. Validated on open like the offset index.
 */
import { IndexFileWriter } from "./index-file-writer.ts";
import type { SegmentFile } from "./segment-file.ts";

export const TIME_INDEX_ENTRY_SIZE = 12;

export interface TimestampOffset {
  timestamp: number;
  offset: number;
}

export class TimeIndex {
  private ts: number[] = [];
  private rel: number[] = [];
  private readonly out: IndexFileWriter;

  constructor(
    private readonly file: SegmentFile,
    readonly baseOffset: number,
  ) {
    this.out = new IndexFileWriter(file, TIME_INDEX_ENTRY_SIZE);
  }

  get entries(): number {
    return this.ts.length;
  }

  /** Loads the file; false when not self-consistent (relative offsets must lie below `maxRel`). */
  load(maxRel: number): boolean {
    const size = this.file.size;
    if (size % TIME_INDEX_ENTRY_SIZE !== 0) return false;
    const bytes = this.file.read(0, size);
    if (bytes.length !== size) return false;
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const ts: number[] = [];
    const rel: number[] = [];
    for (let at = 0; at < size; at += TIME_INDEX_ENTRY_SIZE) {
      const t = Number(dv.getBigInt64(at));
      const r = dv.getInt32(at + 8);
      const prevT = ts.length ? (ts[ts.length - 1] as number) : -Infinity;
      const prevR = rel.length ? (rel[rel.length - 1] as number) : -1;
      if (t <= prevT || r < prevR || r < 0 || r > maxRel) return false;
      ts.push(t);
      rel.push(r);
    }
    this.ts = ts;
    this.rel = rel;
    return true;
  }

  rebuild(entries: TimestampOffset[]): void {
    this.ts = entries.map((e) => e.timestamp);
    this.rel = entries.map((e) => e.offset - this.baseOffset);
    this.rewriteFile();
  }

  /** Adds (timestamp, offset) when timestamp grows the running max; otherwise does nothing. */
  maybeAppend(timestamp: number, offset: number): void {
    const last = this.ts.length ? (this.ts[this.ts.length - 1] as number) : -Infinity;
    if (timestamp <= last) return;
    const r = offset - this.baseOffset;
    this.ts.push(timestamp);
    this.rel.push(r);
    const dv = this.out.entryView();
    const at = this.out.nextEntryAt;
    dv.setBigInt64(at, BigInt(timestamp));
    dv.setInt32(at + 8, r);
    this.out.added();
  }

  /** The last entry with timestamp < `ts`: batches up to its offset all lie below `ts`. */
  lastBelow(ts: number): TimestampOffset | null {
    let lo = 0;
    let hi = this.ts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.ts[mid] as number) < ts) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0) return null;
    return { timestamp: this.ts[found] as number, offset: this.baseOffset + (this.rel[found] as number) };
  }

  /** Whether the entries are exactly `entries`. */
  equals(entries: TimestampOffset[]): boolean {
    if (entries.length !== this.ts.length) return false;
    return entries.every((e, i) => e.timestamp === this.ts[i] && e.offset - this.baseOffset === this.rel[i]);
  }

  lastEntry(): TimestampOffset | null {
    const n = this.ts.length;
    if (n === 0) return null;
    return { timestamp: this.ts[n - 1] as number, offset: this.baseOffset + (this.rel[n - 1] as number) };
  }

  async sync(): Promise<void> {
    await this.out.sync(() => this.rewriteFile());
  }

  /** Writes entries still pending in memory (they are otherwise written in groups). */
  flush(): void {
    this.out.flush();
  }

  close(): void {
    this.out.close();
  }

  private rewriteFile(): void {
    const buf = new Uint8Array(this.ts.length * TIME_INDEX_ENTRY_SIZE);
    const dv = new DataView(buf.buffer);
    for (let i = 0; i < this.ts.length; i++) {
      dv.setBigInt64(i * TIME_INDEX_ENTRY_SIZE, BigInt(this.ts[i] as number));
      dv.setInt32(i * TIME_INDEX_ENTRY_SIZE + 8, this.rel[i] as number);
    }
    this.out.rewrite(buf);
  }
}
