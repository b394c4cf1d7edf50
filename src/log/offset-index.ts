/**
 * Sparse offset index of one segment (`<base>.index`).
 *
 * On-disk format: a flat array of 8-byte big-endian entries, no header, no checksum:
 *   relativeOffset int32   batch baseOffset - segment baseOffset
 *   position       int32   byte position of that batch in the `.log` file
 * An entry is added for the first batch appended after at least `indexIntervalBytes` bytes since
 * the previous entry, so entries are strictly increasing in both fields. The index is a hint: a
 * lookup gives a batch at or before the target, and a short header scan of the log finishes the
 * job. Being checksum-less, it is validated on open (size a multiple of 8, strictly increasing,
 * positions inside the log) and rebuilt from the log when in doubt. All entries are also kept in
 * memory, so lookups never read the file.
 */
import { IndexFileWriter } from "./index-file-writer.ts";
import type { SegmentFile } from "./segment-file.ts";

export const OFFSET_INDEX_ENTRY_SIZE = 8;

export interface OffsetPosition {
  offset: number;
  position: number;
}

export class OffsetIndex {
  private rel: number[] = [];
  private pos: number[] = [];
  private readonly out: IndexFileWriter;

  constructor(
    private readonly file: SegmentFile,
    readonly baseOffset: number,
  ) {
    this.out = new IndexFileWriter(file, OFFSET_INDEX_ENTRY_SIZE);
  }

  get entries(): number {
    return this.rel.length;
  }

  /** Loads the file; returns false (and loads nothing) when it is not self-consistent. */
  load(logSize: number): boolean {
    const size = this.file.size;
    if (size % OFFSET_INDEX_ENTRY_SIZE !== 0) return false;
    const bytes = this.file.read(0, size);
    if (bytes.length !== size) return false;
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const rel: number[] = [];
    const pos: number[] = [];
    for (let at = 0; at < size; at += OFFSET_INDEX_ENTRY_SIZE) {
      const r = dv.getInt32(at);
      const p = dv.getInt32(at + 4);
      const prevR = rel.length ? (rel[rel.length - 1] as number) : -1;
      const prevP = pos.length ? (pos[pos.length - 1] as number) : -1;
      if (r <= prevR || p <= prevP || p >= logSize) return false;
      rel.push(r);
      pos.push(p);
    }
    this.rel = rel;
    this.pos = pos;
    return true;
  }

  /** Replaces the whole index (memory and file) with the given entries. */
  rebuild(entries: OffsetPosition[]): void {
    this.rel = entries.map((e) => e.offset - this.baseOffset);
    this.pos = entries.map((e) => e.position);
    this.rewriteFile();
  }

  append(offset: number, position: number): void {
    const r = offset - this.baseOffset;
    this.rel.push(r);
    this.pos.push(position);
    const dv = this.out.entryView();
    const at = this.out.nextEntryAt;
    dv.setInt32(at, r);
    dv.setInt32(at + 4, position);
    this.out.added();
  }

  /** The last entry whose offset is <= `offset`, or the segment start. */
  lookup(offset: number): OffsetPosition {
    const target = offset - this.baseOffset;
    let lo = 0;
    let hi = this.rel.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.rel[mid] as number) <= target) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0) return { offset: this.baseOffset, position: 0 };
    return { offset: this.baseOffset + (this.rel[found] as number), position: this.pos[found] as number };
  }

  /** Whether the entries are exactly `entries`. */
  equals(entries: OffsetPosition[]): boolean {
    if (entries.length !== this.rel.length) return false;
    return entries.every((e, i) => e.offset - this.baseOffset === this.rel[i] && e.position === this.pos[i]);
  }

  lastEntry(): OffsetPosition | null {
    const n = this.rel.length;
    if (n === 0) return null;
    return { offset: this.baseOffset + (this.rel[n - 1] as number), position: this.pos[n - 1] as number };
  }

  /** Makes the file durable (at segment seal); rewrites it first if a write had failed. */
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
    const buf = new Uint8Array(this.rel.length * OFFSET_INDEX_ENTRY_SIZE);
    const dv = new DataView(buf.buffer);
    for (let i = 0; i < this.rel.length; i++) {
      dv.setInt32(i * OFFSET_INDEX_ENTRY_SIZE, this.rel[i] as number);
      dv.setInt32(i * OFFSET_INDEX_ENTRY_SIZE + 4, this.pos[i] as number);
    }
    this.out.rewrite(buf);
  }
}
