/**
 * Splits a TCP byte stream into Kafka frames: [int32 size][size bytes]. The size is checked against
 * `socket.request.max.bytes` before anything is allocated for the frame.
 *
 * Copies: a frame inside one read is a zero-copy view of that read (Bun hands each `data` callback
 * a fresh buffer, so views stay valid). A frame spanning reads is copied exactly once, into its
 * final buffer as each read arrives (while the read is still in the CPU cache), never re-assembled
 * from a list of chunks at the end. With a `FramePool`, that buffer is a reused block for frames the
 * `poolIf` predicate accepts (by API key): no fresh pages per large request (see frame-pool.ts for
 * the ownership rules). Frames above the pool's limit and not pooled are collected chunk by chunk
 * and joined once complete, so a client announcing a huge frame does not make us allocate it before
 * the bytes arrive.
 */
import type { FramePool } from "./frame-pool.ts";

export type FrameResult = { frames: Uint8Array[]; error?: string };

export interface FrameReaderOptions {
  pool?: FramePool;
  /** Which frames (by the request's API key, the body's first int16) may use the pool. */
  poolIf?: (apiKey: number) => boolean;
}

/** Unpooled frames up to this size get their buffer when the size is known. */
const EAGER_UNPOOLED_MAX = 1024 * 1024;

export class FrameReader {
  private readonly header = new Uint8Array(4);
  private headerFilled = 0;
  /** The frame being filled (eager path), or null. */
  private partial: Uint8Array | null = null;
  private filled = 0;
  /** Lazy path (large frames): chunks of the frame being received, and its size. */
  private lazyChunks: Uint8Array[] | null = null;
  private lazySize = 0;

  constructor(
    private readonly maxFrameBytes: number,
    private readonly options: FrameReaderOptions = {},
  ) {}

  /** Feeds bytes; returns the complete frames, or an error after which the connection must close. */
  push(data: Uint8Array): FrameResult {
    const frames: Uint8Array[] = [];
    const len = data.length;
    let pos = 0;
    while (pos < len) {
      if (this.partial !== null) {
        const target = this.partial;
        const n = Math.min(target.length - this.filled, len - pos);
        target.set(n === len && pos === 0 ? data : data.subarray(pos, pos + n), this.filled);
        this.filled += n;
        pos += n;
        if (this.filled < target.length) break;
        frames.push(target);
        this.partial = null;
        this.filled = 0;
        continue;
      }
      if (this.lazyChunks !== null) {
        const n = Math.min(this.lazySize - this.filled, len - pos);
        this.lazyChunks.push(data.subarray(pos, pos + n));
        this.filled += n;
        pos += n;
        if (this.filled < this.lazySize) break;
        const out = new Uint8Array(this.lazySize);
        let at = 0;
        for (const c of this.lazyChunks) {
          out.set(c, at);
          at += c.length;
        }
        frames.push(out);
        this.lazyChunks = null;
        this.filled = 0;
        continue;
      }
      let size: number;
      if (this.headerFilled === 0 && len - pos >= 4) {
        size = ((data[pos]! << 24) | (data[pos + 1]! << 16) | (data[pos + 2]! << 8) | data[pos + 3]!) | 0;
        pos += 4;
      } else {
        while (this.headerFilled < 4 && pos < len) this.header[this.headerFilled++] = data[pos++]!;
        if (this.headerFilled < 4) break;
        this.headerFilled = 0;
        const h = this.header;
        size = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) | 0;
      }
      if (size < 0) return { frames, error: `invalid frame size ${size}` };
      if (size > this.maxFrameBytes) {
        return { frames, error: `frame of ${size} bytes exceeds socket.request.max.bytes (${this.maxFrameBytes})` };
      }
      const available = len - pos;
      if (available >= size) {
        frames.push(data.subarray(pos, pos + size));
        pos += size;
        continue;
      }
      // The frame continues in later reads.
      const { pool, poolIf } = this.options;
      const apiKey = available >= 2 ? (data[pos]! << 8) | data[pos + 1]! : -1;
      if (pool !== undefined && apiKey >= 0 && pool.pools(size) && poolIf !== undefined && poolIf(apiKey)) {
        this.partial = pool.acquire(size);
      } else if (size <= EAGER_UNPOOLED_MAX) {
        this.partial = new Uint8Array(size);
      } else {
        this.lazyChunks = [];
        this.lazySize = size;
      }
      this.filled = 0;
    }
    return { frames };
  }

  /** Bytes received that belong to no complete frame yet. */
  get bufferedBytes(): number {
    return this.headerFilled + this.filled;
  }
}
