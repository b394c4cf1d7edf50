/**
 * Splits a TCP byte stream into Kafka frames: [int32 size][size bytes]. The size is checked against
 * `socket.request.max.bytes` before anything is allocated for the frame, and bytes are only
 * concatenated once per frame (a frame spanning several reads is copied exactly once; a frame inside
 * one read is a zero-copy view — Bun hands each `data` callback a fresh buffer, so views stay valid).
 */
export type FrameResult = { frames: Uint8Array[]; error?: string };

export class FrameReader {
  private chunks: Uint8Array[] = [];
  private head = 0; // read position inside chunks[0]
  private buffered = 0;
  private frameSize = -1;

  constructor(private readonly maxFrameBytes: number) {}

  /** Feeds bytes; returns the complete frames, or an error after which the connection must close. */
  push(data: Uint8Array): FrameResult {
    this.chunks.push(data);
    this.buffered += data.length;
    const frames: Uint8Array[] = [];
    for (;;) {
      if (this.frameSize < 0) {
        if (this.buffered < 4) break;
        const sizeBytes = this.take(4);
        const size = ((sizeBytes[0]! << 24) | (sizeBytes[1]! << 16) | (sizeBytes[2]! << 8) | sizeBytes[3]!) | 0;
        if (size < 0) return { frames, error: `invalid frame size ${size}` };
        if (size > this.maxFrameBytes) {
          return { frames, error: `frame of ${size} bytes exceeds socket.request.max.bytes (${this.maxFrameBytes})` };
        }
        this.frameSize = size;
      }
      if (this.buffered < this.frameSize) break;
      frames.push(this.take(this.frameSize));
      this.frameSize = -1;
    }
    return { frames };
  }

  get bufferedBytes(): number {
    return this.buffered;
  }

  private take(n: number): Uint8Array {
    if (n === 0) return new Uint8Array(0);
    const first = this.chunks[0]!;
    const available = first.length - this.head;
    if (available >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.advance(n);
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0]!;
      const count = Math.min(chunk.length - this.head, n - filled);
      out.set(chunk.subarray(this.head, this.head + count), filled);
      filled += count;
      this.advance(count);
    }
    return out;
  }

  private advance(n: number): void {
    this.head += n;
    this.buffered -= n;
    while (this.chunks.length > 0 && this.head >= this.chunks[0]!.length) {
      this.head -= this.chunks[0]!.length;
      this.chunks.shift();
    }
  }
}
