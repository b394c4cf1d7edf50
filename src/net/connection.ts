/**
 * One client connection: frames in, responses out in request order (Kafka clients match responses
 * to requests by order as well as correlation id), with backpressure both ways: a slow reader makes
 * us queue and wait for `drain`, and too much queued work pauses reading from the socket.
 */
import type { Socket } from "bun";
import { FrameReader } from "./frame-reader.ts";
import { POOL_MIN_FRAME, framePool } from "./frame-pool.ts";
import { AuthSession } from "../auth/auth-session.ts";
import type { ListenerBinding } from "../auth/listener-binding.ts";
import { BufferPool } from "../protocol/writer.ts";
import { giveBack, isLentView } from "../util/lent-views.ts";

/**
 * Blocks responses are built in (dispatch.ts frameResponse) and coalesced into. A connection gives
 * a block back only once the socket took every byte of it: Bun's socket.write copies what it
 * reports written into the kernel and keeps no reference, and the rest stays in outQueue (ours)
 * until drained. Responses that never reach a connection's send (in-process callers) are simply
 * not given back. Records chunks lent by the memory tier (src/util/lent-views.ts) are given back
 * the same way, once written in full; a closed connection forgets its queue (safe: the slab is then
 * not reused).
 */
export const responsePool = new BufferPool();

/** Gives back the pooled blocks of a response whose bytes are no longer needed (e.g. written in full). */
export function releaseResponse(chunks: readonly Uint8Array[]): void {
  responsePool.releaseChunks(chunks);
}

/** What the broker answers for one frame: response bytes, nothing (acks=0), or "close the connection". */
export type DispatchResult = Uint8Array[] | null | "close";

export interface ConnectionContext {
  readonly id: number;
  readonly remoteAddress: string;
  /** The listener the client connected through (absent in in-process tests: a PLAINTEXT default). */
  readonly listener?: ListenerBinding;
  /** Authentication state; absent means an unauthenticated-by-design PLAINTEXT connection. */
  readonly auth?: AuthSession;
  /** Kafka principal of the connection (`User:<name>` after SASL, `User:ANONYMOUS` otherwise). */
  readonly principal?: string;
  /** Close the connection once every response queued so far has been written (failed authentication). */
  closeAfterResponses?(): void;
  /** Quotas (KIP-219): stop reading from the client for `ms` (the response already carries throttle_time_ms). */
  throttle?(ms: number): void;
}

export interface FrameDispatcher {
  dispatch(frame: Uint8Array, conn: ConnectionContext): DispatchResult | Promise<DispatchResult>;
  onConnectionClosed?(conn: ConnectionContext): void;
}

interface Slot {
  done: boolean;
  result: DispatchResult;
}

interface OutChunk {
  bytes: Uint8Array;
  /** Last chunk in its pooled block: give the block back once these bytes were written. */
  release: boolean;
  /** Records lent by the memory tier, sent without copying: give the view back once written. */
  lent: boolean;
}

// Pause reading when this much work is queued on one connection; resume when it drains below half.
const MAX_IN_FLIGHT = 64;
const MAX_QUEUED_OUT_BYTES = 32 * 1024 * 1024;
const COALESCE_LIMIT = 64 * 1024;
/**
 * Requests whose large frames are assembled in pooled buffers: Produce only. Its handler and the
 * log copy what they keep or hold the frame until the covering write completed (00-produce.ts);
 * other handlers may keep views of their request (group metadata, assignments), so their frames
 * are never reused.
 */
const PRODUCE_API_KEY = 0;
const poolIf = (apiKey: number): boolean => apiKey === PRODUCE_API_KEY;

export class Connection implements ConnectionContext {
  private readonly frames: FrameReader;
  private readonly slots: Slot[] = [];
  private readonly outQueue: OutChunk[] = [];
  private outQueuedBytes = 0;
  private paused = false;
  private closed = false;
  private closeWhenFlushed = false;
  /** Quota mute: no reads before this time (epoch ms). */
  private throttledUntil = 0;
  private throttleTimer: ReturnType<typeof setTimeout> | null = null;
  readonly auth: AuthSession;

  constructor(
    readonly id: number,
    private readonly socket: Socket<unknown>,
    private readonly dispatcher: FrameDispatcher,
    maxFrameBytes: number,
    private readonly log: (msg: string) => void,
    private readonly onFinished: (conn: Connection) => void,
    readonly listener?: ListenerBinding,
  ) {
    this.frames = new FrameReader(maxFrameBytes, { pool: framePool, poolIf });
    const sasl = listener?.securityProtocol === "SASL_PLAINTEXT" || listener?.securityProtocol === "SASL_SSL";
    this.auth = new AuthSession(sasl, listener?.saslMechanisms ?? []);
  }

  get principal(): string {
    return this.auth.principal;
  }

  throttle(ms: number): void {
    if (this.closed || ms <= 0) return;
    const until = Date.now() + ms;
    if (until <= this.throttledUntil) return;
    this.throttledUntil = until;
    if (this.throttleTimer) clearTimeout(this.throttleTimer);
    this.throttleTimer = setTimeout(() => {
      this.throttleTimer = null;
      this.updateReadPause();
    }, ms);
    this.updateReadPause();
  }

  closeAfterResponses(): void {
    this.closeWhenFlushed = true;
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress;
  }

  get inFlight(): number {
    return this.slots.length;
  }

  onData(data: Uint8Array): void {
    if (this.closed) return;
    const { frames, error } = this.frames.push(data);
    for (const frame of frames) this.dispatchFrame(frame);
    if (error) {
      this.log(`connection ${this.id} from ${this.remoteAddress}: ${error}; closing`);
      this.close();
    }
  }

  private dispatchFrame(frame: Uint8Array): void {
    const slot: Slot = { done: false, result: null };
    this.slots.push(slot);
    // A pooled frame is given back once the request was handled (holders past that hold it themselves).
    const pooled = frame.length >= POOL_MIN_FRAME && framePool.owns(frame);
    let outcome: DispatchResult | Promise<DispatchResult>;
    try {
      outcome = this.dispatcher.dispatch(frame, this);
    } catch (e) {
      this.log(`connection ${this.id}: request failed: ${(e as Error).stack ?? e}`);
      outcome = "close";
    }
    if (outcome instanceof Promise) {
      outcome.then(
        (r) => {
          if (pooled) framePool.release(frame);
          this.complete(slot, r);
        },
        (e) => {
          if (pooled) framePool.release(frame);
          this.log(`connection ${this.id}: request failed: ${(e as Error)?.stack ?? e}`);
          this.complete(slot, "close");
        },
      );
    } else {
      if (pooled) framePool.release(frame);
      this.complete(slot, outcome);
    }
    this.updateReadPause();
  }

  private complete(slot: Slot, result: DispatchResult): void {
    slot.done = true;
    slot.result = result;
    // Responses leave strictly in request order: flush every finished slot at the head.
    while (this.slots.length > 0 && this.slots[0]!.done) {
      const head = this.slots.shift()!;
      if (head.result === "close") {
        this.close();
        return;
      }
      if (head.result !== null) this.send(head.result);
    }
    if (this.closeWhenFlushed && this.slots.length === 0 && this.outQueue.length === 0) {
      this.close();
      return;
    }
    this.updateReadPause();
  }

  private send(chunks: Uint8Array[]): void {
    if (this.closed) return; // pooled blocks are left to the garbage collector
    let total = 0;
    for (const c of chunks) total += c.length;
    if (chunks.length > 1 && total <= COALESCE_LIMIT) {
      // Acquire before giving the sources back, so the merge never lands in a block it copies from.
      const merged = total >= responsePool.minBlock ? responsePool.acquire(total).subarray(0, total) : new Uint8Array(total);
      let pos = 0;
      for (const c of chunks) {
        merged.set(c, pos);
        pos += c.length;
        giveBack(c); // copied into the merge: a lent records view is dead (others: nothing happens)
      }
      responsePool.releaseChunks(chunks);
      chunks = [merged];
    }
    const releaseAt = lastChunkOfEachBlock(chunks);
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i]!;
      const release = releaseAt !== null && releaseAt[i] === true;
      const lent = isLentView(c);
      if (this.outQueue.length === 0) {
        const written = this.socket.write(c);
        if (written === c.length) {
          if (release) responsePool.release(c);
          if (lent) giveBack(c);
          continue;
        }
        const rest = c.subarray(Math.max(written, 0));
        this.outQueue.push({ bytes: rest, release, lent });
        this.outQueuedBytes += rest.length;
      } else {
        this.outQueue.push({ bytes: c, release, lent });
        this.outQueuedBytes += c.length;
      }
    }
  }

  onDrain(): void {
    while (this.outQueue.length > 0 && !this.closed) {
      const head = this.outQueue[0]!;
      const c = head.bytes;
      const written = this.socket.write(c);
      if (written === c.length) {
        this.outQueue.shift();
        this.outQueuedBytes -= c.length;
        if (head.release) responsePool.release(c);
        if (head.lent) giveBack(c);
        continue;
      }
      if (written > 0) {
        head.bytes = c.subarray(written);
        this.outQueuedBytes -= written;
      }
      break;
    }
    if (this.closeWhenFlushed && this.slots.length === 0 && this.outQueue.length === 0) {
      this.close();
      return;
    }
    this.updateReadPause();
  }

  private updateReadPause(): void {
    if (this.closed) return;
    const muted = this.throttledUntil > Date.now();
    const overloaded = muted || this.slots.length >= MAX_IN_FLIGHT || this.outQueuedBytes >= MAX_QUEUED_OUT_BYTES;
    const relaxed = !muted && this.slots.length < MAX_IN_FLIGHT / 2 && this.outQueuedBytes < MAX_QUEUED_OUT_BYTES / 2;
    if (overloaded && !this.paused) {
      this.paused = true;
      this.socket.pause();
    } else if (this.paused && relaxed) {
      this.paused = false;
      this.socket.resume();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end();
    this.finish();
  }

  /** Called when the peer closed or the socket errored. */
  onClosed(): void {
    this.closed = true;
    this.finish();
  }

  private finished = false;
  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.throttleTimer) clearTimeout(this.throttleTimer);
    this.dispatcher.onConnectionClosed?.(this);
    this.onFinished(this);
  }
}

/**
 * For each pooled block the chunks point into, marks the last chunk in it (chunks go out in order,
 * so once that one is written the whole block is); null when no chunk is pooled.
 */
function lastChunkOfEachBlock(chunks: Uint8Array[]): boolean[] | null {
  let marks: boolean[] | null = null;
  let seen: ArrayBufferLike[] | null = null;
  for (let i = chunks.length - 1; i >= 0; i--) {
    const c = chunks[i]!;
    if (!responsePool.owns(c)) continue;
    seen ??= [];
    if (seen.includes(c.buffer)) continue;
    seen.push(c.buffer);
    marks ??= new Array<boolean>(chunks.length).fill(false);
    marks[i] = true;
  }
  return marks;
}
