/**
 * Response framing: time and fresh-memory page faults of building Fetch-like responses through the
 * real path (dispatch's frameResponse with the Fetch handler's writer), and of sending them through
 * a real Connection over localhost to a reader in another process.
 *
 *   bun bench/response-buffers.bench.ts            # both sections, default scenarios
 *   bun bench/response-buffers.bench.ts --quick    # fewer iterations
 *
 * Scenarios: 1000 partitions × 2 KiB of records and 100 partitions × 10 KiB (one topic, Fetch v12).
 * "frame" builds each response and then drops it as a connection would after writing it in full
 * (if the build under test has a way to hand buffers back, `releaseResponse`, it is used);
 * "socket" runs a Connection on a Bun.listen socket whose dispatcher answers every request frame
 * with that response, while a child process sends the requests (2 in flight) and reads every byte.
 * Figures: µs per response (wall), this process's CPU µs per response, minor page faults per MiB
 * of response (minflt of /proc/self/stat; the reader's are in its own process).
 * Prints figures only, no asserts. To compare with an older tree, copy this file into it (its
 * dispatch.ts must export frameResponse) and run it there.
 */
import type { Socket } from "bun";
import { readFileSync } from "node:fs";
import { frameResponse } from "../src/broker/dispatch.ts";
import { fetchHandler } from "../src/handlers/01-fetch.ts";
import type { ApiHandler, RequestContext } from "../src/handlers/handler.ts";
import { Connection, type DispatchResult } from "../src/net/connection.ts";
import type { FetchResponse } from "../src/protocol/generated/fetch-response.ts";
import * as connectionModule from "../src/net/connection.ts";

const QUICK = process.argv.includes("--quick");

// ---- child: the reader --------------------------------------------------------------------------

if (process.argv[2] === "--reader") {
  const port = Number(process.argv[3]);
  const count = Number(process.argv[4]);
  await runReader(port, count);
  process.exit(0);
}

async function runReader(port: number, count: number): Promise<void> {
  // A minimal request frame: size, api key 1, version 12, correlation id (the dispatcher ignores it).
  const req = new Uint8Array(4 + 8);
  const dv = new DataView(req.buffer);
  dv.setInt32(0, 8);
  dv.setInt16(4, 1);
  dv.setInt16(6, 12);
  let sent = 0;
  let received = 0;
  let need = -1; // bytes left of the current response, -1 = reading its size
  const sizeBuf = new Uint8Array(4);
  let sizeHave = 0;
  await new Promise<void>((resolve) => {
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(s) {
          for (; sent < Math.min(2, count); sent++) s.write(req);
        },
        data(s, d) {
          let i = 0;
          while (i < d.length) {
            if (need < 0) {
              sizeBuf[sizeHave++] = d[i++]!;
              if (sizeHave === 4) {
                need = new DataView(sizeBuf.buffer).getInt32(0);
                sizeHave = 0;
              }
              continue;
            }
            const take = Math.min(need, d.length - i);
            i += take;
            need -= take;
            if (need === 0) {
              need = -1;
              received++;
              if (sent < count) {
                s.write(req);
                sent++;
              }
              if (received === count) {
                s.end();
                resolve();
                return;
              }
            }
          }
        },
        close() {
          resolve();
        },
      },
    });
  });
}

// ---- synthetic responses ------------------------------------------------------------------------

function fetchLike(partitions: number, recordBytes: number): FetchResponse {
  // Records are views of one large block, like reads from a log segment.
  const block = new Uint8Array(partitions * recordBytes);
  for (let i = 0; i < block.length; i++) block[i] = (i * 31) & 0xff;
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: [
      {
        topic: "bench-topic",
        partitions: Array.from({ length: partitions }, (_, p) => ({
          partitionIndex: p,
          errorCode: 0,
          highWatermark: 1_000_000 + p,
          lastStableOffset: 1_000_000 + p,
          logStartOffset: 0,
          abortedTransactions: null,
          preferredReadReplica: -1,
          records: block.subarray(p * recordBytes, (p + 1) * recordBytes),
        })),
      },
    ],
  };
}

const ctx = { apiVersion: 12, correlationId: 42, clientId: "bench", broker: undefined, conn: undefined } as unknown as RequestContext;
const handler = fetchHandler as unknown as ApiHandler;
// Present only in builds that pool response buffers: gives a response's buffers back (written in full).
const releaseResponse = (connectionModule as Record<string, unknown>).releaseResponse as ((chunks: Uint8Array[]) => void) | undefined;

function frame(res: FetchResponse): Uint8Array[] {
  const out = frameResponse(handler, ctx, res);
  if (!Array.isArray(out)) throw new Error("no response");
  return out;
}

const total = (chunks: Uint8Array[]) => chunks.reduce((n, c) => n + c.length, 0);
// minflt, field 10 of /proc/self/stat (counted after the parenthesised command name).
const faults = () => Number(readFileSync("/proc/self/stat", "utf8").split(") ")[1]!.split(" ")[7]);
const cpuUs = () => {
  const u = process.resourceUsage();
  return u.userCPUTime + u.systemCPUTime;
};

interface Figures {
  usPerResponse: number;
  cpuUsPerResponse: number;
  faultsPerMiB: number;
  bytes: number;
  chunks: number;
}

function benchFrame(res: FetchResponse, iterations: number): Figures {
  let chunks = 0;
  let bytes = 0;
  for (let i = 0; i < 20; i++) {
    const c = frame(res);
    releaseResponse?.(c);
  }
  Bun.gc(true);
  const f0 = faults();
  const c0 = cpuUs();
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) {
    const c = frame(res);
    chunks = c.length;
    bytes += total(c);
    releaseResponse?.(c);
  }
  const ms = performance.now() - t0;
  return {
    usPerResponse: (ms * 1000) / iterations,
    cpuUsPerResponse: (cpuUs() - c0) / iterations,
    faultsPerMiB: (faults() - f0) / (bytes / 1048576),
    bytes: bytes / iterations,
    chunks,
  };
}

async function benchSocket(res: FetchResponse, count: number): Promise<Figures> {
  let chunks = 0;
  let bytes = 0;
  let finishedResolve: () => void = () => {};
  const finished = new Promise<void>((r) => (finishedResolve = r));
  const dispatcher = {
    dispatch(): DispatchResult {
      const c = frame(res);
      chunks = c.length;
      bytes += total(c);
      return c;
    },
  };
  const server = Bun.listen<{ conn?: Connection }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        socket.data = { conn: new Connection(1, socket as Socket<unknown>, dispatcher, 1 << 20, () => {}, () => finishedResolve()) };
      },
      data: (socket, data) => socket.data.conn?.onData(data),
      drain: (socket) => socket.data.conn?.onDrain(),
      close: (socket) => socket.data.conn?.onClosed(),
    },
  });
  Bun.gc(true);
  const f0 = faults();
  const c0 = cpuUs();
  const t0 = performance.now();
  const child = Bun.spawn([process.execPath, import.meta.path, "--reader", String(server.port), String(count)], { stdout: "inherit", stderr: "inherit" });
  await child.exited;
  await finished;
  const ms = performance.now() - t0;
  const figures = {
    usPerResponse: (ms * 1000) / count,
    cpuUsPerResponse: (cpuUs() - c0) / count,
    faultsPerMiB: (faults() - f0) / (bytes / 1048576),
    bytes: bytes / count,
    chunks,
  };
  server.stop(true);
  return figures;
}

function show(label: string, f: Figures): void {
  console.log(
    `${label.padEnd(34)} ${f.usPerResponse.toFixed(0).padStart(7)} µs/resp  ${f.cpuUsPerResponse.toFixed(0).padStart(7)} cpu µs/resp  ` +
      `${f.faultsPerMiB.toFixed(1).padStart(7)} faults/MiB  ${(f.bytes / 1024).toFixed(0)} KiB in ${f.chunks} chunk(s)`,
  );
}

const scenarios: Array<[number, number]> = [
  [1000, 2048],
  [100, 10240],
  [1000, 1024],
];
console.log(`response buffers (${releaseResponse ? "pooling build" : "no releaseResponse: older build"}), Bun ${Bun.version}`);
const responses = scenarios.map(([p, r]) => fetchLike(p, r));
for (const res of responses) benchFrame(res, 50); // warm-up pass: every scenario JIT-compiled before timing
for (const [i, [partitions, recordBytes]] of scenarios.entries()) {
  const res = responses[i]!;
  const name = `${partitions} × ${recordBytes / 1024} KiB`;
  show(`frame  ${name}`, benchFrame(res, QUICK ? 100 : 400));
  show(`socket ${name}`, await benchSocket(res, QUICK ? 100 : 400));
}
