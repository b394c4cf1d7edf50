/**
 * The file side of a segment index (offset or time index): entries are collected in memory and
 * written PENDING_ENTRIES at a time, not one write per entry. With 1 KiB records an index entry
 * falls every ~4 records, so per-entry writes were a syscall (js backend) or an engine op (native)
 * for every few records — a few percent of the JS thread at 1000 partitions × 50 MiB/s.
 *
 * Why deferring is safe: indexes carry no checksum and are never trusted blindly. Recovery
 * recomputes both from the log and rebuilds a file that is not exactly what it computed
 * (src/log/segment.ts `recover`), so entries lost in a crash only cost a rebuild. Everything
 * pending is written before the file is synced (at seal), rewritten or closed, so a sealed or
 * cleanly closed segment's index is complete on disk.
 */
import type { SegmentFile } from "./segment-file.ts";

/** Entries per write (512 bytes of offset index, 768 of time index). */
const PENDING_ENTRIES = 64;

export class IndexFileWriter {
  /** Set when a write failed: the file no longer mirrors memory; rewrite before trusting. */
  stale = false;
  private buf: Uint8Array;
  private view: DataView;
  private used = 0;

  constructor(
    readonly file: SegmentFile,
    private readonly entrySize: number,
  ) {
    this.buf = new Uint8Array(PENDING_ENTRIES * entrySize);
    this.view = new DataView(this.buf.buffer);
  }

  /** Where the next entry goes in `entryView()`; fill it, then call `added()`. */
  get nextEntryAt(): number {
    return this.used;
  }

  entryView(): DataView {
    return this.view;
  }

  added(): void {
    this.used += this.entrySize;
    if (this.used >= this.buf.length) this.flush();
  }

  /** Writes the pending entries. The buffer goes to the file as is (the native engine writes
   * from it in place, after this returns), so a fresh one takes its place. */
  flush(): void {
    if (this.used === 0) return;
    const out = this.buf.subarray(0, this.used);
    this.buf = new Uint8Array(PENDING_ENTRIES * this.entrySize);
    this.view = new DataView(this.buf.buffer);
    this.used = 0;
    if (this.stale) return;
    try {
      this.file.write(out);
    } catch {
      // The index is only a hint and is validated on open; keep serving from memory.
      this.stale = true;
    }
  }

  /** Replaces the file's content with `bytes` (pending entries are part of `bytes`). */
  rewrite(bytes: Uint8Array): void {
    this.used = 0;
    try {
      this.file.truncate(0);
      this.file.write(bytes);
      this.stale = false;
    } catch {
      this.stale = true;
    }
  }

  async sync(rewrite: () => void): Promise<void> {
    if (this.stale) rewrite();
    else this.flush();
    await this.file.datasync();
  }

  close(): void {
    this.flush();
    this.file.close();
  }
}
