// The addon's network thread (native/src/net_io.rs) behind NativeTcpServer, driven over real
// loopback TCP by Bun sockets: framing across arbitrary read boundaries, answer order, big frames,
// refused sizes, a client that stops reading (queue limit and drain), staging-block stalls, idle
// close, and peer close.
import { afterEach, describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import { NativeTcpServer } from "../../../src/net/native-tcp-server.ts";
import type { ConnectionContext, DispatchResult, FrameDispatcher } from "../../../src/net/connection.ts";

const servers: NativeTcpServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop(100);
});

function sizePrefix(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, n);
  return b;
}

function framed(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  out.set(sizePrefix(body.length));
  out.set(body, 4);
  return out;
}

/** A frame body: a 4-byte sequence number, then bytes derived from it. */
function body(seq: number, size: number): Uint8Array {
  const b = new Uint8Array(Math.max(size, 4));
  new DataView(b.buffer).setUint32(0, seq);
  for (let i = 4; i < b.length; i++) b[i] = (seq * 31 + i * 7) & 0xff;
  return b;
}

type Answer = (frame: Uint8Array, conn: ConnectionContext) => DispatchResult | Promise<DispatchResult>;

/** Answers each frame with [size][the frame's bytes] (copied: the frame may be a pooled block). */
const echo: Answer = (frame) => [sizePrefix(frame.length), frame.slice()];

function start(answer: Answer, opts: { maxFrameBytes?: number; idleTimeoutMs?: number } = {}) {
  const logs: string[] = [];
  const closed: number[] = [];
  const dispatcher: FrameDispatcher = {
    dispatch: answer,
    onConnectionClosed: (c) => closed.push(c.id),
  };
  const server = new NativeTcpServer({
    host: "127.0.0.1",
    port: 0,
    maxFrameBytes: opts.maxFrameBytes ?? 64 * 1024 * 1024,
    idleTimeoutMs: opts.idleTimeoutMs ?? 0,
    dispatcher,
    log: (m) => logs.push(m),
  });
  servers.push(server);
  const { port } = server.start();
  return { server, port, logs, closed };
}

/** A raw client: collects the response frames (bodies) it receives, in order. */
async function client(port: number) {
  const frames: Uint8Array[] = [];
  let pending = new Uint8Array(0);
  let closed = false;
  const socket: Socket<undefined> = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, data) {
        const all = new Uint8Array(pending.length + data.length);
        all.set(pending);
        all.set(data, pending.length);
        let pos = 0;
        while (all.length - pos >= 4) {
          const size = new DataView(all.buffer, pos).getInt32(0);
          if (all.length - pos - 4 < size) break;
          frames.push(all.slice(pos + 4, pos + 4 + size));
          pos += 4 + size;
        }
        pending = all.slice(pos);
      },
      close() {
        closed = true;
      },
      drain() {},
    },
  });
  /** Writes everything, waiting out a full socket buffer. */
  const send = async (bytes: Uint8Array) => {
    let at = 0;
    while (at < bytes.length) {
      const n = socket.write(bytes.subarray(at));
      if (n > 0) at += n;
      else await Bun.sleep(1);
    }
  };
  return { socket, frames, send, isClosed: () => closed };
}

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(2);
  }
}

describe("NativeTcpServer (network thread)", () => {
  test("frames split at arbitrary boundaries arrive whole; answers keep request order under async handlers", async () => {
    // Every third request answers later than the ones after it: the order must still hold.
    const answer: Answer = (frame) => {
      const seq = new DataView(frame.buffer, frame.byteOffset).getUint32(0);
      const out = echo(frame, {} as ConnectionContext);
      return seq % 3 === 0 ? Bun.sleep(3).then(() => out) : out;
    };
    const { port } = start(answer);
    const c = await client(port);
    const sizes = Array.from({ length: 300 }, (_, i) => [4, 17, 1000, 40_000, 200_000][i % 5]! + (i % 13));
    const bodies = sizes.map((s, i) => body(i, s));
    const stream = new Uint8Array(bodies.reduce((a, b) => a + 4 + b.length, 0));
    let at = 0;
    for (const b of bodies) {
      stream.set(framed(b), at);
      at += 4 + b.length;
    }
    // Cut the stream into uneven pieces (1 byte up to 70 KiB) so size prefixes and bodies straddle reads.
    let pos = 0;
    let step = 1;
    while (pos < stream.length) {
      const n = Math.min(step, stream.length - pos);
      await c.send(stream.subarray(pos, pos + n));
      pos += n;
      step = (step * 7 + 3) % 70_001;
      if (step % 5 === 0) await Bun.sleep(0);
    }
    await until("all answers", () => c.frames.length === bodies.length);
    for (let i = 0; i < bodies.length; i++) expect(c.frames[i]).toEqual(bodies[i]!);
    c.socket.end();
  });

  test("a frame above the staging limit (3 MiB) arrives whole", async () => {
    const { port } = start(echo);
    const c = await client(port);
    const big = body(7, 3 * 1024 * 1024 + 5);
    await c.send(framed(big));
    await c.send(framed(body(8, 10)));
    await until("both answers", () => c.frames.length === 2);
    expect(c.frames[0]).toEqual(big);
    expect(c.frames[1]).toEqual(body(8, 10));
    c.socket.end();
  });

  test("a negative size or one above socket.request.max.bytes closes only that connection", async () => {
    const { port, logs, closed } = start(echo, { maxFrameBytes: 1000 });
    const good = await client(port);
    const tooBig = await client(port);
    const negative = await client(port);
    await tooBig.send(sizePrefix(1001));
    await negative.send(sizePrefix(-5));
    await until("both bad connections closed", () => tooBig.isClosed() && negative.isClosed());
    await good.send(framed(body(1, 1000)));
    await until("answer on the good connection", () => good.frames.length === 1);
    expect(good.frames[0]).toEqual(body(1, 1000));
    expect(good.isClosed()).toBe(false);
    expect(logs.some((l) => l.includes("frame of 1001 bytes exceeds socket.request.max.bytes (1000)"))).toBe(true);
    expect(logs).toContainEqual(expect.stringContaining("invalid frame size -5"));
    expect(closed.length).toBe(2);
    good.socket.end();
  });

  test("a client that stops reading: writes are refused past the queue limit, then drain delivers everything in order", async () => {
    const MiB = 1024 * 1024;
    // Each 8-byte request asks for a 1 MiB answer: 64 of them are more than the 32 MiB queue limit.
    const answer: Answer = (frame) => {
      const seq = new DataView(frame.buffer, frame.byteOffset).getUint32(0);
      return [sizePrefix(MiB), body(seq, MiB)];
    };
    const { server, port } = start(answer);
    const c = await client(port);
    c.socket.pause();
    for (let i = 0; i < 64; i++) await c.send(framed(body(i, 8)));
    await until("a refused write", () => (server.stats()?.refusedWrites ?? 0) > 0);
    c.socket.resume();
    await until("all answers", () => c.frames.length === 64, 30_000);
    for (let i = 0; i < 64; i++) {
      const f = c.frames[i]!;
      expect(f.length).toBe(MiB);
      expect(new DataView(f.buffer, f.byteOffset).getUint32(0)).toBe(i);
      expect(f[MiB - 1]).toBe((i * 31 + (MiB - 1) * 7) & 0xff);
    }
    c.socket.end();
  });

  test("a busy event loop: the thread stops at a full staging block and resumes, losing nothing", async () => {
    const FRAMES = 80;
    const SIZE = 256 * 1024;
    const got: Uint8Array[] = [];
    let first = true;
    const answer: Answer = (frame) => {
      got.push(frame.slice());
      if (first) {
        // Hold the event loop while the sender (another process) pushes 20 MiB: more than a
        // staging block holds, so the thread must stop reading and pick up again after the take.
        first = false;
        const until = Date.now() + 500;
        while (Date.now() < until);
      }
      return null; // no answer (as for acks=0): the sender only writes
    };
    const { server, port } = start(answer);
    const sender = Bun.spawn(
      [
        process.execPath,
        "-e",
        `const n = ${FRAMES}, size = ${SIZE};
         const all = new Uint8Array(n * (4 + size));
         for (let i = 0; i < n; i++) {
           const at = i * (4 + size);
           const v = new DataView(all.buffer, at);
           v.setInt32(0, size);
           v.setUint32(4, i);
           for (let j = 4; j < size; j++) all[at + 4 + j] = (i * 31 + j * 7) & 0xff;
         }
         let pos = 0;
         const s = await Bun.connect({ hostname: "127.0.0.1", port: ${port}, socket: { data() {}, drain(sock) { write(sock); } } });
         function write(sock) {
           while (pos < all.length) { const k = sock.write(all.subarray(pos)); if (k <= 0) return; pos += k; }
           sock.end();
         }
         write(s);`,
      ],
      { stdout: "inherit", stderr: "inherit" },
    );
    await until("all frames", () => got.length === FRAMES, 30_000);
    for (let i = 0; i < FRAMES; i++) expect(got[i]).toEqual(body(i, SIZE));
    expect(server.stats()!.stalls).toBeGreaterThan(0);
    await sender.exited;
  });

  test("connections.max.idle.ms closes a connection that does nothing; peer close is reported", async () => {
    const { port, closed } = start(echo, { idleTimeoutMs: 200 });
    const idle = await client(port);
    const active = await client(port);
    const t0 = Date.now();
    while (Date.now() - t0 < 600) {
      await active.send(framed(body(1, 8)));
      await Bun.sleep(50);
    }
    await until("idle connection closed", () => idle.isClosed(), 2000);
    expect(active.isClosed()).toBe(false);
    expect(closed.length).toBe(1);
    active.socket.end();
    await until("peer close reported", () => closed.length === 2);
  });
});
