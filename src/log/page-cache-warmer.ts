/**
 * Brings the page cache in ahead of an active segment's append position, off the JS thread.
 *
 * Why: on a VM whose free memory has been handed back to the host (virtio-balloon free page
 * reporting), or when free memory has run out and every new page must first be reclaimed, a
 * pwrite into new page-cache pages is slow: 370-500 MB/s on this machine, 60 % of the broker's
 * samples in `copy_folio_from_iter_atomic` at 100 partitions, while a pwrite into pages already in
 * the cache ran at ~5 GB/s (bench/RESULTS.md, session 15). readahead(2) of the file's sparse tail
 * (past the data, inside the file's length) makes the kernel allocate those pages, zero-filled and
 * clean, in the calling thread: the addon runs it on the runtime's worker pool. The JS thread's
 * later pwrite or mapped store then lands in pages that exist.
 *
 * Safe by construction: readahead only reads (no byte written, no disk block allocated for a hole,
 * a clean zero page is never written back). A page the writer reaches first is simply written the
 * slow way; readahead then finds it cached and does nothing. A failed call is ignored. A file
 * closes its descriptor only after its calls in flight have returned, so a call can never land on a
 * descriptor number reused by another file.
 */
import * as fs from "node:fs";
import { readaheadAsync } from "../native/index.ts";

/** One file's range still to be read, [next, end), and its reads in flight. */
export class WarmRange {
  next = 0;
  end = 0;
  inFlight = 0;
  private closeWhenIdle = false;
  /** Set by close(): the descriptor is (or is about to be) closed; nothing more is read. */
  closed = false;

  constructor(readonly fd: number) {}

  /** True while calls of this range are queued or in flight. */
  get busy(): boolean {
    return this.inFlight > 0 || this.next < this.end;
  }

  /** Stops reading past `length` (the file was cut there). */
  clip(length: number): void {
    this.end = Math.min(this.end, length);
  }

  /** Other calls on the descriptor in flight (write-behind): the descriptor stays open for them too. */
  heldBy = 0;

  /** Closes the descriptor now, or once the calls in flight have returned; nothing more is read. */
  close(): void {
    this.closed = true;
    this.end = this.next;
    if (this.inFlight === 0 && this.heldBy === 0) fs.closeSync(this.fd);
    else this.closeWhenIdle = true;
  }

  /** @internal called by the warmer when one of this range's reads returned. */
  readReturned(): void {
    this.inFlight--;
    this.closeIfIdle();
  }

  /** Keeps the descriptor open for another call on it until `release()`. */
  hold(): void {
    this.heldBy++;
  }

  release(): void {
    this.heldBy--;
    this.closeIfIdle();
  }

  private closeIfIdle(): void {
    if (this.closeWhenIdle && this.inFlight === 0 && this.heldBy === 0) {
      this.closeWhenIdle = false;
      fs.closeSync(this.fd);
    }
  }
}

/** Counters (benchmarks and tests). */
export const warmerCounters = { reads: 0, bytes: 0 };

export class PageCacheWarmer {
  /** Ranges with bytes left to read, served round-robin one piece at a time. */
  private readonly queue: WarmRange[] = [];
  private inFlight = 0;

  constructor(
    /** Calls at once: one thread bringing pages in ran at about the writer's speed; four kept ahead. */
    private readonly maxInFlight = 4,
    /** Bytes per call (below the kernel's per-call readahead cap). */
    private readonly pieceBytes = 512 * 1024,
  ) {}

  /** True when no read is queued or in flight (tests, shutdown). */
  get idle(): boolean {
    return this.inFlight === 0 && this.queue.every((r) => r.next >= r.end);
  }

  /** Reads [from, to) of the range's file into the page cache (after what it was already asked for). */
  warm(range: WarmRange, from: number, to: number): void {
    if (range.closed) return;
    const queued = range.next < range.end;
    if (!queued) range.next = from;
    range.end = Math.max(range.end, to);
    if (!queued && range.next < range.end) this.queue.push(range);
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const range = this.queue.shift() as WarmRange;
      if (range.next >= range.end) continue; // clipped or closed meanwhile
      const at = range.next;
      const n = Math.min(this.pieceBytes, range.end - at);
      range.next = at + n;
      if (range.next < range.end) this.queue.push(range);
      range.inFlight++;
      this.inFlight++;
      warmerCounters.reads++;
      warmerCounters.bytes += n;
      const returned = () => {
        this.inFlight--;
        range.readReturned();
        this.pump();
      };
      try {
        readaheadAsync(range.fd, at, n).then(returned, returned);
      } catch {
        returned(); // refused arguments: a warm-up that does not happen
      }
    }
  }
}
