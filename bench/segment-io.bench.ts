/**
 * Segment I/O backends compared on durable (acks=all, fsync before ack) produce:
 * bunka.log.io = io_uring | pwrite | js, with 1, 8 and 64 producers in flight.
 *
 *   bun bench/segment-io.bench.ts              # 3 rounds × 3 backends × (1, 8, 64) × 3 s, ~3 min
 *   bun bench/segment-io.bench.ts --quick      # 1 round, 1 s phases
 *   bun bench/segment-io.bench.ts --rounds 5 --seconds 4
 *
 * For each round, the backends run one after another in a rotated order (A B C, B C A, C A B):
 * a fresh broker (test/support/broker.ts) on a fresh data dir under .cache/bench-data/ (the real
 * filesystem), one topic with one partition, then for each concurrency N: N connections, each a
 * closed loop of Produce v9 acks=-1 requests with one 1 KiB record (wire client, no batching),
 * for a fixed time after a short warm-up. Figures per cell are the MEDIAN over rounds of:
 *  - produce requests per fdatasync: requests / fdatasyncs the broker ran in the phase (native
 *    engine counter, or the js backend's fs.fdatasync count; read from the broker through
 *    BUNKA_IO_STATS_FILE + SIGUSR2);
 *  - p50 / p99 ack latency (performance.now around each request, per phase);
 *  - broker CPU per produce (utime+stime of the broker process from /proc/PID/stat, all threads);
 *  - context switches per produce (voluntary+involuntary, summed over /proc/PID/task/*);
 *  - throughput (requests / phase wall time).
 * A read section compares positioned reads of cached data in-process: the native file's sync
 * pread on the JS thread, fs.readSync, and readAsync on the worker (io_uring / pwrite).
 * Raw JSON goes to .cache/bench-results/segment-io-<date>.json.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, openSync, readSync, closeSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { Produce } from "../src/client/codecs.ts";
import { buildRecordBatch } from "../src/client/record-batch-builder.ts";
import { WireClient } from "../src/client/wire-client.ts";
import { ioEngine } from "../src/log/native-segment-file.ts";
import { ioUringProbe } from "../src/native/index.ts";
import { REPO_ROOT, startBunka, type BrokerHandle } from "../test/support/broker.ts";
import { describeEnvironment, processCpuMs } from "./lib/env.ts";
import { checkProduce, createTopic, produceRequest, PRODUCE_VERSION } from "./lib/kafka.ts";
import { quantile } from "./lib/stats.ts";

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const QUICK = process.argv.includes("--quick");
const ROUNDS = arg("--rounds", QUICK ? 1 : 3);
const PHASE_MS = arg("--seconds", QUICK ? 1 : 3) * 1000;
const WARMUP_MS = QUICK ? 200 : 500;
const CONCURRENCY = [1, 8, 64];
const URING = ioUringProbe() === "";
const BACKENDS = URING ? ["io_uring", "pwrite", "js"] : ["pwrite", "js"];
const TOPIC = "segio";
const BENCH_ROOT = join(REPO_ROOT, ".cache", "bench-data");

interface Cell {
  backend: string;
  concurrency: number;
  round: number;
  requests: number;
  fdatasyncs: number;
  perFsync: number;
  p50: number;
  p99: number;
  cpuUsPerOp: number;
  ctxPerOp: number;
  opsPerSec: number;
}

function ctxSwitches(pid: number): number {
  let total = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const s = readFileSync(`/proc/${pid}/task/${tid}/status`, "utf8");
        total += Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(s)?.[1] ?? 0);
        total += Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(s)?.[1] ?? 0);
      } catch {
        // thread exited
      }
    }
  } catch {
    return Number.NaN;
  }
  return total;
}

/** Asks the broker for its I/O counters (SIGUSR2 → JSON file) and returns its fdatasync count. */
async function brokerFsyncs(broker: BrokerHandle, statsFile: string, backend: string): Promise<number> {
  const before = existsSync(statsFile) ? readFileSync(statsFile, "utf8") : "";
  broker.proc!.kill("SIGUSR2");
  for (let i = 0; i < 200; i++) {
    await Bun.sleep(5);
    if (!existsSync(statsFile)) continue;
    const text = readFileSync(statsFile, "utf8");
    if (text === before) continue;
    const j = JSON.parse(text) as Record<string, any>;
    if (backend === "js") return j.js.fdatasyncs as number;
    return (j[backend]?.fdatasyncs as number) ?? Number.NaN;
  }
  throw new Error("broker did not write its I/O stats");
}

async function runPhase(broker: BrokerHandle, conns: WireClient[], n: number, ms: number, record: boolean) {
  const req = produceRequest(TOPIC, 0, buildRecordBatch([{ value: new Uint8Array(1024).fill(0x61) }]));
  const samples: number[] = [];
  const end = performance.now() + ms;
  await Promise.all(
    conns.slice(0, n).map(async (c) => {
      while (performance.now() < end) {
        const t0 = performance.now();
        checkProduce(await c.send(Produce, PRODUCE_VERSION, req));
        if (record) samples.push(performance.now() - t0);
      }
    }),
  );
  return samples;
}

async function runBackend(backend: string, round: number): Promise<Cell[]> {
  const dataDir = join(BENCH_ROOT, `segment-io-${backend}-${process.pid}`);
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const statsFile = join(dataDir, "..", `segment-io-stats-${process.pid}.json`);
  rmSync(statsFile, { force: true });
  const broker = await startBunka({
    name: `segio-${backend}`,
    dataDir,
    overrides: { "bunka.log.io": backend },
    env: { BUNKA_IO_STATS_FILE: statsFile },
  });
  const cells: Cell[] = [];
  try {
    const pid = broker.proc!.pid;
    const admin = await WireClient.connect(broker.host, broker.port, "segio-admin");
    await createTopic(admin, TOPIC, 1);
    admin.close();
    const conns: WireClient[] = [];
    for (let i = 0; i < Math.max(...CONCURRENCY); i++) conns.push(await WireClient.connect(broker.host, broker.port, `segio-${i}`));
    for (const n of CONCURRENCY) {
      await runPhase(broker, conns, n, WARMUP_MS, false);
      const f0 = await brokerFsyncs(broker, statsFile, backend);
      const cpu0 = processCpuMs(pid);
      const cs0 = ctxSwitches(pid);
      const w0 = performance.now();
      const samples = await runPhase(broker, conns, n, PHASE_MS, true);
      const wall = performance.now() - w0;
      const cpu = processCpuMs(pid) - cpu0;
      const cs = ctxSwitches(pid) - cs0;
      const fsyncs = (await brokerFsyncs(broker, statsFile, backend)) - f0;
      const sorted = Float64Array.from(samples).sort();
      const cell: Cell = {
        backend,
        concurrency: n,
        round,
        requests: samples.length,
        fdatasyncs: fsyncs,
        perFsync: samples.length / Math.max(1, fsyncs),
        p50: quantile(sorted, 0.5),
        p99: quantile(sorted, 0.99),
        cpuUsPerOp: (cpu * 1000) / samples.length,
        ctxPerOp: cs / samples.length,
        opsPerSec: (samples.length * 1000) / wall,
      };
      cells.push(cell);
      console.log(
        `  round ${round} ${backend.padEnd(8)} x${String(n).padEnd(2)}: ${cell.requests} req, ${fsyncs} fsyncs (${cell.perFsync.toFixed(1)}/fsync), ` +
          `p50 ${cell.p50.toFixed(3)} ms, p99 ${cell.p99.toFixed(3)} ms, CPU ${cell.cpuUsPerOp.toFixed(0)} µs/op, ` +
          `${cell.ctxPerOp.toFixed(1)} cs/op, ${cell.opsPerSec.toFixed(0)} op/s`,
      );
    }
    for (const c of conns) c.close();
  } finally {
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(statsFile, { force: true });
  }
  return cells;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return quantile(s, 0.5);
}

/** Cached positioned reads: µs per read, median of 5 runs of `iters` reads. */
async function readBench(): Promise<string[]> {
  const dir = join(BENCH_ROOT, `segment-io-read-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "r.log");
  const size = 16 << 20;
  writeFileSync(path, new Uint8Array(size).fill(7));
  const lines: string[] = [];
  const modes = URING ? ["io_uring", "pwrite"] : ["pwrite"];
  try {
    for (const len of [4096, 65536, 1 << 20]) {
      const iters = len >= 1 << 20 ? 200 : 2000;
      const results: Record<string, number[]> = {};
      const add = (k: string, v: number) => (results[k] ??= []).push(v);
      for (let run = 0; run < 5; run++) {
        const fd = openSync(path, "r");
        let t = performance.now();
        for (let i = 0; i < iters; i++) readSync(fd, Buffer.allocUnsafe(len), 0, len, ((i * 7919) % (size / len)) * len);
        add("fs.readSync, new Buffer.allocUnsafe per read", ((performance.now() - t) * 1000) / iters);
        closeSync(fd);
        for (const mode of modes) {
          const f = ioEngine(mode as "io_uring" | "pwrite").open(path);
          t = performance.now();
          for (let i = 0; i < iters; i++) f.read(((i * 7919) % (size / len)) * len, len);
          add(`NativeSegmentFile.read (fs.readSync on the engine's fd)`, ((performance.now() - t) * 1000) / iters);
          t = performance.now();
          for (let i = 0; i < iters; i++) await f.readAsync(((i * 7919) % (size / len)) * len, len);
          add(`readAsync ${mode}, one at a time`, ((performance.now() - t) * 1000) / iters);
          t = performance.now();
          const ps: Promise<Uint8Array>[] = [];
          for (let i = 0; i < iters; i++) ps.push(f.readAsync(((i * 7919) % (size / len)) * len, len));
          await Promise.all(ps);
          add(`readAsync ${mode}, all in flight`, ((performance.now() - t) * 1000) / iters);
          f.close();
        }
      }
      for (const [k, v] of Object.entries(results)) {
        lines.push(`| ${len >= 1 << 20 ? "1 MiB" : `${len / 1024} KiB`} | ${k} | ${median(v).toFixed(1)} µs |`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return lines;
}

async function main(): Promise<void> {
  mkdirSync(BENCH_ROOT, { recursive: true });
  const env = describeEnvironment(BENCH_ROOT);
  console.log(`segment-io bench: ${JSON.stringify(env)}; io_uring ${URING ? "available" : `refused (${ioUringProbe()})`}`);
  console.log(`rounds ${ROUNDS}, phases ${PHASE_MS} ms, load average at start ${loadavg().map((x) => x.toFixed(1)).join(" ")}`);
  const cells: Cell[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const order = BACKENDS.map((_, i) => BACKENDS[(i + round - 1) % BACKENDS.length]!);
    for (const backend of order) cells.push(...(await runBackend(backend, round)));
  }
  const loadEnd = loadavg().map((x) => x.toFixed(1)).join(" ");
  const head =
    "| backend | producers | req/fsync | p50 | p99 | broker CPU/produce | ctx switches/produce | produce/s |\n" +
    "| ------- | --------- | --------- | --- | --- | ------------------ | -------------------- | --------- |";
  const rows: string[] = [];
  for (const n of CONCURRENCY) {
    for (const b of BACKENDS) {
      const cs = cells.filter((c) => c.backend === b && c.concurrency === n);
      const m = (k: keyof Cell) => median(cs.map((c) => c[k] as number));
      rows.push(
        `| ${b} | ${n} | ${m("perFsync").toFixed(1)} | ${m("p50").toFixed(3)} ms | ${m("p99").toFixed(2)} ms | ` +
          `${m("cpuUsPerOp").toFixed(0)} µs | ${m("ctxPerOp").toFixed(1)} | ${m("opsPerSec").toFixed(0)} |`,
      );
    }
  }
  console.log(`\nload average at end ${loadEnd}\n\nMedians over ${ROUNDS} round(s):\n${head}\n${rows.join("\n")}`);
  const reads = await readBench();
  console.log(`\nCached positioned reads (median µs per read):\n| size | how | µs/read |\n| ---- | --- | ------- |\n${reads.join("\n")}`);
  const out = join(REPO_ROOT, ".cache", "bench-results");
  mkdirSync(out, { recursive: true });
  const file = join(out, `segment-io-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, JSON.stringify({ env, rounds: ROUNDS, phaseMs: PHASE_MS, cells, reads }, null, 2));
  console.log(`\nraw: ${file}`);
}

await main();
