/**
 * The Kafka listener on the addon's network thread (native/src/net_io.rs): that thread accepts,
 * reads, splits frames and writes responses, so the event loop makes no socket system calls and
 * the runtime allocates no buffer per read. PLAINTEXT and SASL_PLAINTEXT listeners use it when
 * `bunka.network.thread` is true; TLS listeners stay on Bun's sockets (tcp-server.ts).
 *
 * Frames arrive in a staging block the thread rewrites after the next take, so each is copied out
 * here before it is dispatched: large Produce frames into the frame pool (given back once handled,
 * as with Bun's sockets), the rest into a fresh array.
 */
import { Connection, newConnectionId, type ConnectionSocket } from "./connection.ts";
import { framePool } from "./frame-pool.ts";
import type { TcpServerOptions } from "./tcp-server.ts";
import { connectionQuotasOf } from "../quota/registry.ts";
import { createNetServer, NetEvent, type NetConnectionBinding, type NetServerBinding, type NetServerStats } from "../native/index.ts";

const PRODUCE_API_KEY = 0;

interface Entry {
  conn: Connection;
  socket: NativeSocket;
}

/** A connection of the network thread as `Connection` sees a socket; notes when it was last used. */
class NativeSocket implements ConnectionSocket {
  lastActiveMs: number;

  constructor(
    private readonly handle: NetConnectionBinding,
    private readonly clock: { nowMs: number },
  ) {
    this.lastActiveMs = clock.nowMs;
  }

  get remoteAddress(): string {
    return this.handle.remoteAddress;
  }

  write(data: Uint8Array): number {
    this.lastActiveMs = this.clock.nowMs;
    return this.handle.write(data);
  }

  pause(): void {
    this.handle.pause();
  }

  resume(): void {
    this.handle.resume();
  }

  end(): void {
    this.handle.end();
  }
}

export class NativeTcpServer {
  private server: NetServerBinding | null = null;
  private readonly entries = new Map<number, Entry>();
  /** Ids of the thread's connections not yet reported closed (entries forget theirs at close()). */
  private readonly live = new Set<number>();
  private events = new Int32Array(0);
  private stages: Uint8Array[] = [];
  /** A coarse clock (set per batch of events and by the idle sweep): activity stamps need no more. */
  private readonly clock = { nowMs: Date.now() };
  private idleSweep: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly opts: TcpServerOptions) {}

  start(): { host: string; port: number } {
    const server = createNetServer(this.opts.host, this.opts.port, this.opts.maxFrameBytes, () => this.takeEvents());
    server.refLoop();
    this.server = server;
    this.events = new Int32Array(server.eventCapacity);
    // Plain Uint8Array views: slice() on them copies (Buffer#slice would not).
    this.stages = [0, 1].map((i) => {
      const b = server.stage(i);
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    });
    if (this.opts.idleTimeoutMs > 0) {
      const every = Math.min(1000, Math.max(10, Math.floor(this.opts.idleTimeoutMs / 4)));
      this.idleSweep = setInterval(() => this.closeIdle(), every);
      this.idleSweep.unref();
    }
    return { host: server.host, port: server.port };
  }

  get connectionCount(): number {
    return this.entries.size;
  }

  /** Counters of the network thread (wake-ups of either side). */
  stats(): NetServerStats | null {
    return this.server?.stats() ?? null;
  }

  private takeEvents(): void {
    const server = this.server;
    if (server === null) return;
    const ev = this.events;
    const [count, block] = server.takeEvents(ev);
    const stage = this.stages[block]!;
    const now = (this.clock.nowMs = Date.now());
    for (let i = 0; i < count; i += 4) {
      const kind = ev[i]!;
      const id = ev[i + 1]!;
      const a = ev[i + 2]!;
      const b = ev[i + 3]!;
      if (kind === NetEvent.Open) {
        this.live.add(id);
        this.open(server, id);
        continue;
      }
      if (kind === NetEvent.Closed) {
        this.live.delete(id);
        server.forget(id);
      }
      const entry = this.entries.get(id);
      if (entry === undefined) continue; // refused at open, or closed meanwhile
      switch (kind) {
        case NetEvent.Frame:
          entry.socket.lastActiveMs = now;
          entry.conn.onFrame(copyFrame(stage, a, b));
          break;
        case NetEvent.Big: {
          entry.socket.lastActiveMs = now;
          const frame = server.takeBig(a);
          if (frame !== null) entry.conn.onFrame(frame);
          break;
        }
        case NetEvent.Drain:
          entry.conn.onDrain();
          break;
        case NetEvent.BadFrame:
          this.opts.log(
            `connection ${entry.conn.id} from ${entry.conn.remoteAddress}: ${a < 0 ? `invalid frame size ${a}` : `frame of ${a} bytes exceeds socket.request.max.bytes (${this.opts.maxFrameBytes})`}; closing`,
          );
          break;
        case NetEvent.Closed:
          this.entries.delete(id);
          entry.conn.onClosed();
          break;
      }
    }
  }

  private open(server: NetServerBinding, id: number): void {
    const handle = server.connection(id);
    if (handle === null) return; // not possible before its CLOSED event was handled
    const { opts } = this;
    const limits = connectionQuotasOf(opts.dispatcher);
    const ip = handle.remoteAddress;
    const admission = limits?.admit(ip, Date.now()) ?? { admit: true, delayMs: 0 };
    if (!admission.admit) {
      opts.log(`connection from ${ip} refused: ${admission.reason}`);
      handle.end();
      return;
    }
    const socket = new NativeSocket(handle, this.clock);
    const conn = new Connection(newConnectionId(), socket, opts.dispatcher, opts.maxFrameBytes, opts.log, () => {
      this.entries.delete(id);
      limits?.release(ip);
    }, opts.listener);
    if (admission.delayMs > 0) conn.throttle(admission.delayMs); // max.connection.creation.rate
    this.entries.set(id, { conn, socket });
  }

  /** connections.max.idle.ms: close connections that neither sent nor received for that long. */
  private closeIdle(): void {
    const now = (this.clock.nowMs = Date.now());
    for (const { conn, socket } of [...this.entries.values()]) {
      if (now - socket.lastActiveMs >= this.opts.idleTimeoutMs && conn.inFlight === 0) conn.close();
    }
  }

  /** Stops accepting, waits (up to `graceMs`) for in-flight requests, then closes every connection. */
  async stop(graceMs: number): Promise<void> {
    const server = this.server;
    if (server === null) return;
    server.stopListening();
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && [...this.entries.values()].some((e) => e.conn.inFlight > 0)) await Bun.sleep(5);
    for (const { conn } of [...this.entries.values()]) conn.close();
    // Let the thread write what the closes queued (until their CLOSED events came), then end it.
    const flushBy = Date.now() + 1000;
    while (Date.now() < flushBy && this.live.size > 0) await Bun.sleep(5);
    if (this.idleSweep) clearInterval(this.idleSweep);
    server.close();
    server.unrefLoop();
    this.server = null;
  }
}

/** A copy of the frame at `[at, at + length)` of a staging block, in memory the frame may keep. */
function copyFrame(stage: Uint8Array, at: number, length: number): Uint8Array {
  const apiKey = length >= 2 ? (stage[at]! << 8) | stage[at + 1]! : -1;
  if (apiKey === PRODUCE_API_KEY && framePool.pools(length)) {
    const frame = framePool.acquire(length);
    frame.set(stage.subarray(at, at + length));
    return frame;
  }
  return stage.slice(at, at + length);
}
