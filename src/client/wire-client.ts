/**
 * A minimal Kafka protocol client over Bun TCP, built on the generated codecs: send a typed request,
 * get the typed response. Pipelines freely (responses are matched by correlation id, in order).
 * Used by the integration tests and the latency benchmarks to talk to a broker without a client
 * library's own batching and buffering in the way.
 */
import type { Socket } from "bun";
import { requestHeaderVersion, responseHeaderVersion } from "../protocol/header.ts";
import { Reader } from "../protocol/reader.ts";
import { Writer } from "../protocol/writer.ts";
import { FrameReader } from "../net/frame-reader.ts";
import { FramePool } from "../net/frame-pool.ts";

export interface ApiCodec<Req, Res> {
  apiKey: number;
  writeRequest(w: Writer, version: number, req: Req): void;
  readResponse(r: Reader, version: number): Res;
  /**
   * The request body's encoded size, roughly, for requests that carry data (Produce): the frame is
   * then built in one buffer instead of growing from 256 bytes by doubling, a copy and a buffer of
   * garbage per step (the open-loop benchmark sends ~1 000 such requests a second, and its own
   * collector pauses land in the latencies it measures).
   */
  requestSizeHint?(req: Req): number;
}

interface Pending {
  correlationId: number;
  apiKey: number;
  version: number;
  decode: (r: Reader) => unknown;
  /** sendAndConsume: runs on the decoded response while its frame is still valid. */
  consume?: (res: unknown) => unknown;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/**
 * Response frames that span socket reads are assembled in reused blocks (the benchmark's consumer
 * receives 60 MiB/s; a fresh buffer per frame was most of its collector's work). A block goes back
 * only after a sendAndConsume callback is done with it; other responses keep theirs (the garbage
 * collector takes it), since their callers may hold views of it.
 */
const responseFramePool = new FramePool(32 * 1024 * 1024, 64 * 1024 * 1024);

export class WireClient {
  private nextCorrelationId = 1;
  private readonly pending: Pending[] = [];
  private readonly frames = new FrameReader(1 << 30, { pool: responseFramePool, poolIf: () => true });
  private closedError: Error | null = null;

  private constructor(private socket: Socket<undefined> | null, readonly clientId: string) {}

  static async connect(host: string, port: number, clientId = "bunka-wire-client"): Promise<WireClient> {
    const client = new WireClient(null, clientId);
    client.socket = await Bun.connect({
      hostname: host,
      port,
      socket: {
        data: (_s, data) => client.onData(data),
        drain: () => client.flushQueue(),
        close: () => client.fail(new Error("connection closed by broker")),
        error: (_s, e) => client.fail(e),
      },
    });
    client.socket.setNoDelay(true);
    return client;
  }

  /**
   * Sends a request and resolves with the decoded response. The request's byte arrays (records)
   * may be reused as soon as this returns: the frame is encoded and copied into one buffer of its
   * own before (the benchmark's open loop builds every batch in one scratch buffer relying on it).
   */
  send<Req, Res>(codec: ApiCodec<Req, Res>, version: number, req: Req): Promise<Res> {
    return this.request(codec, version, req, undefined);
  }

  /**
   * Sends a request and hands the decoded response to `consume` as soon as it arrives (in the socket
   * callback, before any promise continuation); resolves with what `consume` returns. The response
   * is valid only during the call: its byte arrays are views of a frame that is reused afterwards.
   */
  sendAndConsume<Req, Res, T>(codec: ApiCodec<Req, Res>, version: number, req: Req, consume: (res: Res) => T): Promise<T> {
    return this.request(codec, version, req, consume);
  }

  private request<Req, Res, T>(codec: ApiCodec<Req, Res>, version: number, req: Req, consume: ((res: Res) => T) | undefined): Promise<T> {
    const w = this.encode(codec, version, req);
    return new Promise<T>((resolve, reject) => {
      if (this.closedError) return reject(this.closedError);
      this.pending.push({
        correlationId: this.lastCorrelationId,
        apiKey: codec.apiKey,
        version,
        decode: (r) => codec.readResponse(r, version),
        consume: consume as ((res: unknown) => unknown) | undefined,
        resolve: resolve as (v: unknown) => void,
        reject,
      });
      this.writeAll(w);
    });
  }

  /** Sends a request that gets no response (Produce with acks=0). */
  sendNoResponse<Req>(codec: ApiCodec<Req, unknown>, version: number, req: Req): void {
    this.writeAll(this.encode(codec, version, req));
  }

  /** Sends raw bytes (already framed or not): for hostile-input tests. */
  sendRaw(bytes: Uint8Array): void {
    this.outQueue.push(bytes);
    this.flushQueue();
  }

  get isClosed(): boolean {
    return this.closedError !== null;
  }

  close(): void {
    this.socket?.end();
    this.fail(new Error("client closed"));
  }

  private lastCorrelationId = 0;

  private encode<Req>(codec: ApiCodec<Req, unknown>, version: number, req: Req): Writer {
    const correlationId = this.nextCorrelationId++;
    this.lastCorrelationId = correlationId;
    return encodeRequest(codec, version, correlationId, this.clientId, req);
  }

  private readonly outQueue: Uint8Array[] = [];
  /** Where a frame of several chunks is assembled when nothing is queued (reused; grows as needed). */
  private assembly = new Uint8Array(0);

  /** Bun's socket.write takes what the kernel accepts now and returns that count; the rest waits for drain. */
  private writeAll(w: Writer): void {
    const socket = this.socket;
    if (!socket) throw new Error("not connected");
    // One chunk (no payload big enough to be left uncopied): send it as it is. Several: one buffer,
    // so the frame still goes out in one write.
    const chunks = w.toChunks();
    if (chunks.length === 1 || this.outQueue.length > 0) {
      this.outQueue.push(chunks.length === 1 ? (chunks[0] as Uint8Array) : w.toBytes());
      this.flushQueue();
      return;
    }
    // Nothing queued: assemble in the reused buffer and write at once. socket.write copies what it
    // takes into the kernel and keeps no reference, so only an untaken rest is copied out. (A fresh
    // buffer per Produce request was most of the benchmark client's allocation at 60 MiB/s, and its
    // collector pauses land in the latencies it measures.)
    const n = w.byteLength;
    if (this.assembly.length < n) this.assembly = new Uint8Array(Math.max(n, 2 * this.assembly.length));
    const frame = this.assembly.subarray(0, n);
    w.copyTo(frame);
    const written = socket.write(frame);
    if (written < n) this.outQueue.push(frame.slice(Math.max(written, 0)));
  }

  private flushQueue(): void {
    while (this.socket && this.outQueue.length > 0) {
      const head = this.outQueue[0]!;
      const written = this.socket.write(head);
      if (written === head.length) {
        this.outQueue.shift();
        continue;
      }
      if (written > 0) this.outQueue[0] = head.subarray(written);
      return;
    }
  }

  private onData(data: Uint8Array): void {
    const { frames, error } = this.frames.push(data);
    for (const frame of frames) {
      const p = this.pending.shift();
      if (!p) {
        this.fail(new Error("response without a request"));
        return;
      }
      try {
        const res = decodeResponse(p.apiKey, p.version, p.correlationId, frame, p.decode);
        if (p.consume === undefined) {
          p.resolve(res);
          continue;
        }
        const value = p.consume(res);
        if (responseFramePool.owns(frame)) responseFramePool.release(frame);
        p.resolve(value);
      } catch (e) {
        p.reject(e as Error);
      }
    }
    if (error) this.fail(new Error(error));
  }

  private fail(e: Error): void {
    if (!this.closedError) this.closedError = e;
    for (const p of this.pending.splice(0)) p.reject(e);
  }
}

/** Room for a request body whose codec gives no size hint (most requests are small). */
const DEFAULT_BODY_CAPACITY = 240;

/** Encodes a size-prefixed request frame (header v1 or v2 as the API version requires). */
export function encodeRequest<Req>(codec: ApiCodec<Req, unknown>, version: number, correlationId: number, clientId: string | null, req: Req): Writer {
  // size, api key, version, correlation id, client id (3 bytes a character at most), tagged fields
  const header = 16 + (clientId?.length ?? 0) * 3;
  const w = new Writer(header + (codec.requestSizeHint?.(req) ?? DEFAULT_BODY_CAPACITY));
  const size = w.reserveInt32();
  w.int16(codec.apiKey);
  w.int16(version);
  w.int32(correlationId);
  w.nullableString(clientId);
  if (requestHeaderVersion(codec.apiKey, version) >= 2) w.uvarint(0);
  codec.writeRequest(w, version, req);
  w.patchInt32(size, w.byteLength - 4);
  return w;
}

/** Decodes a response frame (without its size prefix); throws on a correlation mismatch or bad bytes. */
export function decodeResponse<Res>(apiKey: number, version: number, correlationId: number, frame: Uint8Array, decode: (r: Reader) => Res): Res {
  const r = new Reader(frame);
  const got = r.int32();
  if (got !== correlationId) throw new Error(`correlation id ${got}, expected ${correlationId}`);
  if (responseHeaderVersion(apiKey, version) >= 1) r.skipTaggedFields();
  const res = decode(r);
  if (r.error) throw new Error(`malformed response to API ${apiKey} v${version}: ${r.error}`);
  if (r.remaining !== 0) throw new Error(`response to API ${apiKey} v${version} has ${r.remaining} trailing bytes`);
  return res;
}

/** Builds an ApiCodec from a generated module's request writer and response reader. */
export function codec<Req, Res>(
  apiKey: number,
  writeRequest: (w: Writer, v: number, r: Req) => void,
  readResponse: (r: Reader, v: number) => Res,
  requestSizeHint?: (req: Req) => number,
): ApiCodec<Req, Res> {
  return { apiKey, writeRequest, readResponse, requestSizeHint };
}
