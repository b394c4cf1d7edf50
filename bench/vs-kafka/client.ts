/**
 * The benchmark's Kafka connection: the wire client's codecs and framing (encodeRequest,
 * decodeResponse, FrameReader) with write backpressure handled.
 *
 * Why not WireClient itself: its writeAll() ignores the return value of Bun's socket.write(),
 * which returns how many bytes the kernel took and does not keep the rest. When the broker reads
 * slower than the client writes (Kafka with log.flush.interval.messages=1 and 100 partitions), the
 * tail of a request is silently dropped and the next request's bytes are read as its remainder:
 * Kafka logged "InvalidRequestException: Error getting request for apiKey: PRODUCE ... Error reading
 * byte array of 13155 byte(s): only 46 byte(s) available" and closed the connection. Here unwritten
 * bytes are queued and written on `drain`.
 */
import type { Socket } from "bun";
import { FrameReader } from "../../src/net/frame-reader.ts";
import type { Reader } from "../../src/protocol/reader.ts";
import { decodeResponse, encodeRequest, type ApiCodec } from "../../src/client/wire-client.ts";

interface Pending {
  correlationId: number;
  apiKey: number;
  version: number;
  decode: (r: Reader) => unknown;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export class BenchClient {
  private socket: Socket<undefined> | null = null;
  private nextCorrelationId = 1;
  private readonly pending: Pending[] = [];
  private readonly frames = new FrameReader(1 << 30);
  private readonly queue: Uint8Array[] = [];
  private closedError: Error | null = null;
  /** Bytes accepted by send() but not yet taken by the kernel. */
  queuedBytes = 0;

  private constructor(readonly clientId: string) {}

  static async connect(host: string, port: number, clientId = "vs-kafka"): Promise<BenchClient> {
    const c = new BenchClient(clientId);
    c.socket = await Bun.connect({
      hostname: host,
      port,
      socket: {
        data: (_s, data) => c.onData(data),
        drain: () => c.flushQueue(),
        close: () => c.fail(new Error("connection closed by broker")),
        error: (_s, e) => c.fail(e),
      },
    });
    c.socket.setNoDelay(true);
    return c;
  }

  send<Req, Res>(codec: ApiCodec<Req, Res>, version: number, req: Req): Promise<Res> {
    const correlationId = this.nextCorrelationId++;
    const bytes = encodeRequest(codec, version, correlationId, this.clientId, req).toBytes();
    return new Promise<Res>((resolve, reject) => {
      if (this.closedError) return reject(this.closedError);
      this.pending.push({
        correlationId,
        apiKey: codec.apiKey,
        version,
        decode: (r) => codec.readResponse(r, version),
        resolve: resolve as (v: unknown) => void,
        reject,
      });
      this.write(bytes);
    });
  }

  close(): void {
    this.socket?.end();
    this.fail(new Error("client closed"));
  }

  private write(bytes: Uint8Array): void {
    if (!this.socket) throw new Error("not connected");
    if (this.queue.length > 0) {
      this.queue.push(bytes);
      this.queuedBytes += bytes.length;
      return;
    }
    const n = this.socket.write(bytes);
    if (n < 0) return this.fail(new Error("socket closed"));
    if (n < bytes.length) {
      const rest = bytes.subarray(n);
      this.queue.push(rest);
      this.queuedBytes += rest.length;
    }
  }

  private flushQueue(): void {
    while (this.queue.length > 0 && this.socket) {
      const head = this.queue[0]!;
      const n = this.socket.write(head);
      if (n < 0) return this.fail(new Error("socket closed"));
      this.queuedBytes -= Math.max(0, n);
      if (n < head.length) {
        this.queue[0] = head.subarray(n);
        return;
      }
      this.queue.shift();
    }
  }

  private onData(data: Uint8Array): void {
    const { frames, error } = this.frames.push(data);
    for (const frame of frames) {
      const p = this.pending.shift();
      if (!p) return this.fail(new Error("response without a request"));
      try {
        p.resolve(decodeResponse(p.apiKey, p.version, p.correlationId, frame, p.decode));
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
