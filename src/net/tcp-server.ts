/**
 * The Kafka listener: a Bun TCP server whose sockets feed `Connection`s. Graceful stop first refuses
 * new connections, then waits for in-flight requests to be answered before closing sockets.
 */
import type { Socket, TCPSocketListener } from "bun";
import { Connection, type FrameDispatcher } from "./connection.ts";
import type { ListenerBinding } from "../auth/listener-binding.ts";
import type { TlsMaterial } from "../auth/tls-config.ts";
import { connectionQuotasOf } from "../quota/registry.ts";

export interface TcpServerOptions {
  host: string;
  port: number;
  maxFrameBytes: number;
  idleTimeoutMs: number;
  dispatcher: FrameDispatcher;
  log: (msg: string) => void;
  /** Listener name, protocol and advertised endpoint handed to each connection. */
  listener?: ListenerBinding;
  /** Serve TLS with this certificate (SSL and SASL_SSL listeners). */
  tls?: TlsMaterial;
}

// Connection ids are unique across every listener of the process (logs, per-connection state).
let nextConnectionId = 1;

interface SocketData {
  conn: Connection | null;
}

export class TcpServer {
  private listener: TCPSocketListener<SocketData> | null = null;
  private readonly connections = new Set<Connection>();

  constructor(private readonly opts: TcpServerOptions) {}

  start(): { host: string; port: number } {
    const { opts } = this;
    const limits = connectionQuotasOf(opts.dispatcher);
    const idleSeconds = opts.idleTimeoutMs > 0 ? Math.max(1, Math.ceil(opts.idleTimeoutMs / 1000)) : 0;
    this.listener = Bun.listen<SocketData>({
      hostname: opts.host,
      port: opts.port,
      data: { conn: null },
      ...(opts.tls ? { tls: opts.tls } : {}),
      socket: {
        open: (socket: Socket<SocketData>) => {
          const ip = socket.remoteAddress;
          const admission = limits?.admit(ip, Date.now()) ?? { admit: true, delayMs: 0 };
          if (!admission.admit) {
            opts.log(`connection from ${ip} refused: ${admission.reason}`);
            socket.end();
            return;
          }
          socket.setNoDelay(true);
          if (idleSeconds > 0) socket.timeout(idleSeconds);
          const conn = new Connection(nextConnectionId++, socket as Socket<unknown>, opts.dispatcher, opts.maxFrameBytes, opts.log, (c) => {
            this.connections.delete(c);
            limits?.release(ip);
          }, opts.listener);
          if (admission.delayMs > 0) conn.throttle(admission.delayMs); // max.connection.creation.rate
          socket.data = { conn };
          this.connections.add(conn);
        },
        data: (socket, data) => socket.data.conn?.onData(data),
        drain: (socket) => socket.data.conn?.onDrain(),
        close: (socket) => socket.data.conn?.onClosed(),
        error: (socket, err) => {
          opts.log(`socket error: ${err.message}`);
          socket.data.conn?.onClosed();
        },
        timeout: (socket) => socket.data.conn?.close(),
      },
    });
    return { host: this.listener.hostname, port: this.listener.port };
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Stops accepting, waits (up to `graceMs`) for in-flight requests, then closes every connection. */
  async stop(graceMs: number): Promise<void> {
    this.listener?.stop(false);
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && [...this.connections].some((c) => c.inFlight > 0)) await Bun.sleep(5);
    for (const c of [...this.connections]) c.close();
    this.listener?.stop(true);
    this.listener = null;
  }
}
