/**
 * Physical floors for the latency benchmarks: what one durable write and one loopback round trip
 * cost on this machine, measured with tinybench, so broker figures can be judged against them.
 *
 *   - 4 KiB append + fdatasyncSync (the raw syscall pair, on the JS thread);
 *   - 4 KiB append + fs.fdatasync with a callback (how the broker fsyncs: libuv threadpool, so it
 *     adds a thread hop and an event-loop wake-up to the raw cost);
 *   - 4 KiB overwrite in place + fdatasyncSync (no file-size change, so no metadata journal commit:
 *     what a preallocated segment would pay);
 *   - loopback TCP ping-pong with Bun between two processes, 1 KiB request / 16 B reply.
 */
import { closeSync, fdatasync, fdatasyncSync, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { Bench } from "tinybench";
import { fromTinybench, type Row } from "./stats.ts";

export interface FloorOptions {
  dir: string;
  timeMs: number;
  warmupMs: number;
}

export async function measureFsyncFloors(opts: FloorOptions): Promise<Row[]> {
  const block = new Uint8Array(4096).fill(0x5a);
  const files: string[] = [];
  const open = (name: string) => {
    const path = join(opts.dir, name);
    files.push(path);
    return openSync(path, "w+");
  };
  const fdSync = open("floor-append-sync.bin");
  const fdAsync = open("floor-append-async.bin");
  const fdOverwrite = open("floor-overwrite.bin");
  // Preallocate by writing (not fallocate: we want real blocks) and syncing once.
  for (let i = 0; i < 256; i++) writeSync(fdOverwrite, block);
  fdatasyncSync(fdOverwrite);
  let overwritePos = 0;

  const bench = new Bench({ name: "floors-fsync", time: opts.timeMs, warmupTime: opts.warmupMs, retainSamples: true });
  bench
    .add("4 KiB append + fdatasyncSync", () => {
      writeSync(fdSync, block);
      fdatasyncSync(fdSync);
    })
    .add("4 KiB append + fs.fdatasync (threadpool)", async () => {
      writeSync(fdAsync, block);
      await new Promise<void>((resolve, reject) => fdatasync(fdAsync, (e) => (e ? reject(e) : resolve())));
    })
    .add("4 KiB overwrite + fdatasyncSync", () => {
      writeSync(fdOverwrite, block, 0, block.length, overwritePos);
      overwritePos = (overwritePos + 4096) % (256 * 4096);
      fdatasyncSync(fdOverwrite);
    });
  await bench.run();
  for (const fd of [fdSync, fdAsync, fdOverwrite]) closeSync(fd);
  for (const f of files) rmSync(f, { force: true });
  return bench.tasks.map((t) => ({ name: `floor: ${t.name}`, s: fromTinybench(t) }));
}

export async function measureTcpFloor(opts: Omit<FloorOptions, "dir">): Promise<Row[]> {
  const REQ = 1024;
  const REPLY = 16;
  const child = Bun.spawn(["bun", join(import.meta.dir, "echo-server.ts"), String(REQ), String(REPLY)], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  try {
    const port = await readPort(child.stdout as ReadableStream<Uint8Array>);
    let waiting: (() => void) | null = null;
    let got = 0;
    const socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data(_s, chunk) {
          got += chunk.length;
          if (got >= REPLY && waiting) {
            got -= REPLY;
            const w = waiting;
            waiting = null;
            w();
          }
        },
      },
    });
    socket.setNoDelay(true);
    const payload = new Uint8Array(REQ).fill(1);
    const bench = new Bench({ name: "floors-tcp", time: opts.timeMs, warmupTime: opts.warmupMs, retainSamples: true });
    bench.add("loopback TCP ping-pong, 1 KiB → 16 B (Bun↔Bun)", () => {
      const p = new Promise<void>((r) => (waiting = r));
      socket.write(payload);
      return p;
    });
    await bench.run();
    socket.end();
    return bench.tasks.map((t) => ({ name: `floor: ${t.name}`, s: fromTinybench(t) }));
  } finally {
    child.stdin.end();
    child.kill();
    await child.exited;
  }
}

async function readPort(stream: ReadableStream<Uint8Array>): Promise<number> {
  const dec = new TextDecoder();
  let buf = "";
  for await (const chunk of stream) {
    buf += dec.decode(chunk, { stream: true });
    const m = /echo listening on (\d+)/.exec(buf);
    if (m) return Number(m[1]);
  }
  throw new Error("echo server exited before listening");
}
