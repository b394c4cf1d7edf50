/**
 * Latency (and startup / recovery / memory) of Bunka against Apache Kafka 4.3.1, side by side on
 * the same machine, each broker alone while it is measured.
 *
 *   bun run bench:vs-kafka                 full grid: partitions {1, 100, 1000} × {1, 10, 50 MiB/s, max}
 *   bun run bench:vs-kafka --quick         a few minutes: partitions {1, 100} × {1, 10 MiB/s} (+ max, sequential)
 *   bun bench/vs-kafka/run.ts --only bunka --tiny --out DIR     harness self-test (no JVM)
 *
 * Options: --only kafka|bunka, --durability none|fsync, --out DIR (default bench/results),
 *   --partitions 1,100 and --rates 1,10 (override the grid), --heap 2g (Kafka JVM heap),
 *   --probe (diagnostics: Bunka runs with bench/vs-kafka/probe.ts preloaded and writes its
 *   per-second event-loop figures and every 5 ms tick over 20 ms late to <out>/<run>-probe-<durability>.jsonl;
 *   the probe's timer changes the broker a little, so such runs are not for the README),
 *   --bunka-override key=value (repeatable; Bunka experiments, not for the README either),
 *   --repeat N (each open-loop point measured N times in the broker's turn; the run with the
 *   median e2e p99 is reported and the note lists all N).
 *
 * For each durability setting both brokers start from fresh data dirs (timed, one at a time), and
 * then take turns, step by step, the other one paused (SIGSTOP): per partition count a fresh topic
 * and per target rate ProducerPerformance and the open-loop wire-client run; the unthrottled
 * ProducerPerformance ("max"); Kafka's EndToEndLatency and the tinybench sequential tasks. Last,
 * each fills a recovery topic, is killed (-9) and restarted (timed) until every acknowledged record
 * is listed; stop. See README.md here.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { Metadata, Produce } from "../../src/client/codecs.ts";
import { buildRecordBatch } from "../../src/client/record-batch-builder.ts";
import { WireClient } from "../../src/client/wire-client.ts";
import { REPO_ROOT } from "../../test/support/broker.ts";
import { createTopic } from "../../test/support/tools.ts";
import { describeEnvironment, procStatFields } from "../lib/env.ts";
import { createBroker, endOffsets, rssMiB, type Broker, type BrokerKind, type Durability } from "./brokers.ts";
import { endToEndLatency, producerPerformance } from "./java-tools.ts";
import { openLoop, percentiles, RECORD_BYTES, sequential, type OpenLoopResult } from "./js-load.ts";
import { describeAttempts, describeRepeats, describeShares, describeWaits, measureQuietly, medianIndex, type QuietAttempt } from "./machine-share.ts";
import { markdown, svg, type ExtraRow, type LatencyRow, type Row } from "./report.ts";
import { runWithClientProcessEnv } from "../lib/client-process-env.ts";

// the client keeps its freed pages, as the broker does (see client-process-env.ts)
await runWithClientProcessEnv();

// ------------------------------------------------------------------------------- options

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
const opt = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const MODE = flag("--tiny") ? "tiny" : flag("--quick") ? "quick" : "full";
const only = opt("--only") as BrokerKind | undefined;
if (only && only !== "kafka" && only !== "bunka") throw new Error(`--only kafka|bunka, not ${only}`);
const onlyDur = opt("--durability") as Durability | undefined;
const OUT = opt("--out") ?? join(REPO_ROOT, "bench", "results");
const HEAP = opt("--heap") ?? "2g";
const PROBE = flag("--probe");
/** --bunka-override k=v (repeatable): extra Bunka settings for experiments (not for the README). */
const BUNKA_OVERRIDES = Object.fromEntries(
  argv.flatMap((a, i) => (a === "--bunka-override" && argv[i + 1] ? [argv[i + 1]!.split(/=(.*)/s).slice(0, 2)] : [])),
) as Record<string, string>;

interface Config {
  partitions: number[];
  rates: number[];
  max: boolean;
  jsAtMax: boolean;
  java: boolean;
  warmupMs: number;
  durationMs: number;
  perfSeconds: number;
  maxRecords: number;
  /** Expected duration of the unthrottled ProducerPerformance run (its time limit derives from it). */
  maxSeconds: number;
  e2eToolRecords: number;
  seqMs: number;
  recoveryMiB: number;
  warmupMiB: number;
  warmupOpenLoopMs: number;
  maxFillMiB: number;
}
const CFG: Config =
  MODE === "tiny"
    ? { partitions: [1], rates: [1], max: false, jsAtMax: false, java: false, warmupMs: 300, durationMs: 1200, perfSeconds: 0, maxRecords: 0, maxSeconds: 0, e2eToolRecords: 0, seqMs: 300, recoveryMiB: 16, warmupMiB: 0, warmupOpenLoopMs: 0, maxFillMiB: 0 }
    : MODE === "quick"
      ? { partitions: [1, 100], rates: [1, 10], max: true, jsAtMax: false, java: true, warmupMs: 1000, durationMs: 4000, perfSeconds: 6, maxRecords: 150_000, maxSeconds: 20, e2eToolRecords: 300, seqMs: 1000, recoveryMiB: 200, warmupMiB: 64, warmupOpenLoopMs: 3000, maxFillMiB: 100 }
      : { partitions: [1, 100, 1000], rates: [1, 10, 50], max: true, jsAtMax: true, java: true, warmupMs: 2000, durationMs: 8000, perfSeconds: 10, maxRecords: 200_000, maxSeconds: 30, e2eToolRecords: 2000, seqMs: 3000, recoveryMiB: 1024, warmupMiB: 256, warmupOpenLoopMs: 5000, maxFillMiB: 300 };
if (opt("--partitions")) CFG.partitions = opt("--partitions")!.split(",").map(Number);
if (opt("--rates")) CFG.rates = opt("--rates")!.split(",").map(Number);
/** --skip max,seq,recovery: leaves those parts out (experiments on a few rate points). */
const SKIP = new Set((opt("--skip") ?? "").split(",").filter((x) => x !== ""));
for (const part of SKIP) if (!["max", "seq", "recovery"].includes(part)) throw new Error(`--skip takes max, seq and recovery, not ${part}`);
if (SKIP.has("max")) CFG.max = false;

const OPEN_LOOP_CAP_MBPS = 60;

/**
 * Open-loop points whose hypervisor steal exceeded the limit are measured again (see
 * machine-share.ts): `--steal-limit PCT` (default 6), `--steal-retries N` (default 2; 0 = off).
 * Before each attempt a quiet gate (`--quiet-gate PCT`, default 5; 0 = off; off in --tiny unless
 * given) keeps every CPU busy for a second and waits, up to 90 s, while the steal it reads is
 * above PCT: an idle VM shows no steal even inside a steal episode.
 */
const QUIET_GATE_PCT = Number(opt("--quiet-gate") ?? (MODE === "tiny" ? 0 : 5));
if (!Number.isFinite(QUIET_GATE_PCT) || QUIET_GATE_PCT < 0) throw new Error(`--quiet-gate takes a steal percent ≥ 0 (0: off), got ${opt("--quiet-gate")}`);
const STEAL_RULE = {
  stealLimitPct: Number(opt("--steal-limit") ?? 6),
  retries: Number(opt("--steal-retries") ?? 2),
  gate: QUIET_GATE_PCT > 0 ? { stealLimitPct: QUIET_GATE_PCT, probeMs: 1000, pauseMs: 5000, maxWaitMs: 90_000 } : null,
};
/** --repeat N: each open-loop point measured N times in the broker's turn, the median run (by e2e p99) reported. */
const REPEAT = Number(opt("--repeat") ?? 1);
if (!Number.isInteger(REPEAT) || REPEAT < 1) throw new Error(`--repeat takes a whole number of runs ≥ 1, got ${opt("--repeat")}`);

/**
 * ProducerPerformance runs are time-bounded: `expected` seconds (what the record count takes at
 * the target rate) plus slack; a broker far slower than the target (Kafka flushing every append of
 * 100-1000 partitions in the fsync grid answers a few requests per second) is stopped there and
 * the row is built from the tool's one-second windows (no percentiles; see java-tools.ts).
 */
function perfTimeLimit(expected: number): number {
  return Math.ceil(expected * 1.5) + 20;
}
const RUN_ID = new Date().toISOString().replace(/[:.]/g, "-").replace(/-\d\d\dZ$/, "Z");
const DATA_ROOT = join(REPO_ROOT, ".cache", "bench-data", "vs-kafka");
const rows: Row[] = [];
const load1 = () => Number(loadavg()[0]!.toFixed(2));
const log = (s: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${s}`);

// ------------------------------------------------------------------------------- pieces

/**
 * Each durability setting's grid starts from the same memory state: the previous setting's data
 * (gigabytes of page cache, dirty or not, and its deleted data dirs') is written back and dropped,
 * so its writeback and reclaim do not land in this grid. Needs root (as the `nice -n -10` of the
 * README); otherwise only `sync` runs and the line says so.
 */
function freshMemory(): string {
  Bun.spawnSync(["sync"]);
  try {
    writeFileSync("/proc/sys/vm/drop_caches", "3");
    return "page cache written back and dropped before the first point";
  } catch (e) {
    return `page cache written back (not dropped: ${(e as Error).message})`;
  }
}

/**
 * Writes back the page cache's dirty data before an open-loop point, so the writeback of what
 * earlier points (or the other broker's run) wrote does not land inside this point's measurement.
 * Not timed; the same for both brokers.
 */
function settleDisk(): void {
  Bun.spawnSync(["sync"]);
}

/** Fills `topic` with `mib` MiB of 1 KiB records through the wire client (acks=all, 8 in flight). */
async function fill(b: Broker, topic: string, partitions: number, mib: number): Promise<number> {
  return (await fillTimed(b, topic, partitions, mib)).acked;
}

/**
 * Unthrottled writer: 256-record (256 KiB) batches, round-robin over the partitions, 8 requests in
 * flight on one connection. Returns acknowledged records, wall time and per-request latencies.
 */
async function fillTimed(b: Broker, topic: string, partitions: number, mib: number): Promise<{ acked: number; seconds: number; latencies: number[] }> {
  const latencies: number[] = [];
  const t0 = performance.now();
  const c = await WireClient.connect(b.host, b.port, "vs-kafka-fill");
  try {
    const perBatch = 256;
    const total = Math.ceil((mib * 1024 * 1024) / RECORD_BYTES / perBatch);
    const value = new Uint8Array(RECORD_BYTES).map((_, i) => (i * 7) & 0xff);
    const batch = buildRecordBatch(Array.from({ length: perBatch }, () => ({ value })));
    let sent = 0;
    let acked = 0;
    const inflight = new Set<Promise<void>>();
    while (sent < total) {
      const part = sent % partitions;
      const r0 = performance.now();
      const p = c
        .send(Produce, 9, { transactionalId: null, acks: -1, timeoutMs: 30_000, topicData: [{ name: topic, partitionData: [{ index: part, records: batch }] }] })
        .then((res) => {
          const pr = res.responses[0]!.partitionResponses[0]!;
          if (pr.errorCode !== 0) throw new Error(`fill: Produce error ${pr.errorCode}`);
          acked += perBatch;
          latencies.push(performance.now() - r0);
        });
      sent++;
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
      if (inflight.size >= 8) await Promise.race(inflight);
    }
    await Promise.all(inflight);
    return { acked, seconds: (performance.now() - t0) / 1000, latencies };
  } finally {
    c.close();
  }
}

function latencyRow(b: Broker, base: Omit<LatencyRow, "runId" | "mode" | "broker" | "durability" | "load1">): LatencyRow {
  const r: LatencyRow = { runId: RUN_ID, mode: MODE, broker: b.spec.kind, durability: b.spec.durability, ...base, load1: load1() };
  rows.push(r);
  const f = (x: number | null) => (x === null ? "–" : x.toFixed(3));
  log(
    `  ${r.broker}/${r.durability} P=${r.partitions} ${r.step} ${r.metric} ${r.tool}: ${r.achievedMBps.toFixed(2)} MiB/s p50 ${f(r.p50Ms)} p95 ${f(r.p95Ms)} p99 ${f(r.p99Ms)} p99.9 ${f(r.p999Ms)} ms (n=${r.n}, load ${r.load1})` +
      (r.note?.includes("machine cpu") ? ` [${r.note.slice(r.note.indexOf("machine cpu"))}]` : ""),
  );
  return r;
}

function extraRow(b: Broker, metric: ExtraRow["metric"], label: string, value: number, unit: ExtraRow["unit"], note?: string): void {
  const r: ExtraRow = { runId: RUN_ID, mode: MODE, broker: b.spec.kind, durability: b.spec.durability, metric, label, value, unit, ...(note ? { note } : {}) };
  rows.push(r);
  log(`  ${r.broker}/${r.durability} ${metric} ${label}: ${value.toFixed(1)} ${unit}`);
}

/**
 * One broker's pass through one durability setting. The two passes run in turns, each step with
 * its broker alone: the other broker's process is paused (SIGSTOP: no CPU, only its memory), so
 * a minutes-long steal episode of the VM falls on both brokers' points instead of one whole pass.
 */
interface Pass {
  b: Broker;
  peakRss: number;
  /** Set when a step failed: the rest of this pass is skipped, the other broker goes on. */
  failed: boolean;
  /** Topics created so far with their partition counts (the settle step checks their leaders and loads "warmup"). */
  topics: Map<string, number>;
}

const failures: string[] = [];

function sampleRss(p: Pass): void {
  if (!p.failed) p.peakRss = Math.max(p.peakRss, rssMiB(p.b.pid()) || 0);
}

const SETTLE_PAUSE_MS = 2000;

/**
 * After a pause the broker catches up on timers that fired meanwhile — Kafka's controller fences
 * its own broker because the heartbeat "timed out" and unfences it ~50 ms later (server.log) —
 * so before a measured step: 2 s, every partition of every topic led again (Metadata), and 1 s of
 * the open-loop client at 10 MiB/s on the warm-up topic. The same for both brokers; not measured.
 */
async function settleAfterPause(p: Pass): Promise<void> {
  await Bun.sleep(SETTLE_PAUSE_MS);
  await waitLeaders(p.b, p.topics, 60_000);
  if (p.topics.has("warmup")) await openLoop({ host: p.b.host, port: p.b.port, topic: "warmup", partitions: 4, targetMBps: 10, warmupMs: 0, durationMs: 1000 });
}

/** Polls Metadata until every partition of `topics` has a leader and no error. */
async function waitLeaders(b: Broker, topics: Map<string, number>, timeoutMs: number): Promise<void> {
  if (topics.size === 0) return;
  const deadline = performance.now() + timeoutMs;
  const c = await WireClient.connect(b.host, b.port, "vs-kafka-settle");
  try {
    for (;;) {
      const md = await c.send(Metadata, 12, { topics: [...topics.keys()].map((name) => ({ name })), allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      const led = md.topics.every(
        (t) => t.errorCode === 0 && t.partitions.length === topics.get(t.name ?? "") && t.partitions.every((q) => q.errorCode === 0 && q.leaderId >= 0),
      );
      if (led && md.topics.length === topics.size) return;
      if (performance.now() > deadline) throw new Error(`partitions without a leader ${timeoutMs} ms after resuming`);
      await Bun.sleep(50);
    }
  } finally {
    c.close();
  }
}

/**
 * Runs one step of a pass: resumes its broker (settled first unless `settle` is false), runs the
 * step, pauses the broker again. A failing step ends that pass; the failure is recorded.
 */
async function turn(p: Pass, what: string, step: () => Promise<void>, settle = true): Promise<void> {
  if (p.failed) return;
  try {
    p.b.resume();
    if (settle) await settleAfterPause(p);
    await step();
  } catch (e) {
    p.failed = true;
    failures.push(`${p.b.spec.kind}/${p.b.spec.durability} (${what}): ${(e as Error).message.split("\n")[0]}`);
    console.error(`${p.b.spec.kind}/${p.b.spec.durability} failed at ${what}; broker log: ${p.b.logFile}`);
    console.error(e);
  } finally {
    p.b.pause();
  }
}

/** Both orders in turn, so neither broker always measures right after the other's step. */
function inTurns(passes: Pass[], i: number): Pass[] {
  return i % 2 === 0 ? passes : [...passes].reverse();
}

async function startPass(p: Pass): Promise<void> {
  const startMs = await p.b.start();
  extraRow(p.b, "startup", "empty data dir", startMs, "ms");
  await Bun.sleep(1000);
  extraRow(p.b, "rss", "idle after start", rssMiB(p.b.pid()), "MiB");
}

/** Warm-up (not measured), the same for both: the JVM's JIT and JSC's both need it. */
async function warmUp(p: Pass): Promise<void> {
  if (CFG.warmupMiB <= 0) return;
  const b = p.b;
  const w0 = performance.now();
  await createTopic(b.bootstrap, "warmup", 4);
  p.topics.set("warmup", 4);
  await fill(b, "warmup", 4, CFG.warmupMiB);
  await openLoop({ host: b.host, port: b.port, topic: "warmup", partitions: 4, targetMBps: 10, warmupMs: 0, durationMs: CFG.warmupOpenLoopMs });
  log(`  ${b.spec.kind}: warm-up ${CFG.warmupMiB} MiB + ${CFG.warmupOpenLoopMs} ms at 10 MiB/s in ${((performance.now() - w0) / 1000).toFixed(1)} s`);
}

/** The open-loop wire client at one rate, re-measured while the VM's steal was too high. */
async function openLoopRows(p: Pass, P: number, step: string, rate: number, notePrefix: string): Promise<void> {
  const b = p.b;
  const topic = `lat-p${P}`;
  const runs: QuietAttempt<OpenLoopResult>[] = [];
  for (let i = 0; i < REPEAT; i++) {
    runs.push(
      await measureQuietly(() => {
        settleDisk();
        return openLoop({ host: b.host, port: b.port, topic, partitions: P, targetMBps: rate, warmupMs: CFG.warmupMs, durationMs: CFG.durationMs, onTick: () => sampleRss(p) });
      }, STEAL_RULE),
    );
  }
  const kept = medianIndex(runs, (r) => r.result.e2e.p99);
  const q = runs[kept]!;
  const ol = q.result;
  const repeats = describeRepeats(runs.map((r) => r.result.e2e.p99), kept);
  const note = `${notePrefix}${ol.requests} requests, ${ol.recordsPerRequest.toFixed(1)} records/request, unacked ${ol.unacked}, unconsumed ${ol.unconsumed}; ${describeShares(q.shares)}${describeAttempts(q.steals)}${describeWaits(q.waits)}${repeats}`;
  for (const metric of ["produce", "e2e"] as const) {
    const s = ol[metric];
    latencyRow(b, {
      partitions: P, step, targetMBps: rate, achievedMBps: ol.achievedMBps, metric, tool: "wire-client/open-loop",
      p50Ms: s.p50, p95Ms: s.p95, p99Ms: s.p99, p999Ms: s.p999, n: s.n, note,
    });
  }
}

/** One rate of the grid: ProducerPerformance at that rate, then the open-loop client. */
async function ratePoint(p: Pass, P: number, rate: number): Promise<void> {
  const b = p.b;
  if (CFG.java) {
    const recs = Math.round(rate * 1024 * CFG.perfSeconds);
    // 2 s worth of records before the steady-state figures (the client JVM warms up too)
    const warm = Math.round(rate * 1024 * 2);
    const pr = await producerPerformance(b.bootstrap, `lat-p${P}`, rate, recs + warm, warm, perfTimeLimit(CFG.perfSeconds + 2));
    latencyRow(b, {
      partitions: P, step: String(rate), targetMBps: rate, achievedMBps: pr.mbPerSec, metric: "produce", tool: "kafka-producer-perf",
      p50Ms: pr.p50, p95Ms: pr.p95, p99Ms: pr.p99, p999Ms: pr.p999, n: pr.records, note: pr.raw,
    });
  }
  await openLoopRows(p, P, String(rate), rate, "");
}

/** `max`: unthrottled ProducerPerformance and wire client, then (full run) open loop at 80 % of it. */
async function maxPoint(p: Pass, P: number): Promise<void> {
  const b = p.b;
  const topic = `lat-p${P}`;
  const pr = await producerPerformance(b.bootstrap, topic, -1, CFG.maxRecords + CFG.maxRecords / 5, CFG.maxRecords / 5, perfTimeLimit(CFG.maxSeconds));
  latencyRow(b, {
    partitions: P, step: "max", targetMBps: 0, achievedMBps: pr.mbPerSec, metric: "produce", tool: "kafka-producer-perf",
    p50Ms: pr.p50, p95Ms: pr.p95, p99Ms: pr.p99, p999Ms: pr.p999, n: pr.records, note: pr.raw,
  });
  // the broker's own maximum with a client that is not the bottleneck (JS, big batches); like the
  // open-loop points: the page cache's dirty data (ProducerPerformance's, the other broker's turn)
  // written back first, and re-measured while the VM's steal was too high
  const q = await measureQuietly(() => {
    settleDisk();
    return fillTimed(b, topic, P, CFG.maxFillMiB);
  }, STEAL_RULE);
  const ft = q.result;
  const fp = percentiles(ft.latencies);
  const maxMBps = (ft.acked * RECORD_BYTES) / 1048576 / ft.seconds;
  latencyRow(b, {
    partitions: P, step: "max", targetMBps: 0, achievedMBps: maxMBps, metric: "produce", tool: "wire-client/unthrottled",
    p50Ms: fp.p50, p95Ms: fp.p95, p99Ms: fp.p99, p999Ms: fp.p999, n: fp.n, note: `${CFG.maxFillMiB} MiB in 256-record batches, 8 requests in flight; latency per request; ${describeShares(q.shares)}${describeAttempts(q.steals)}${describeWaits(q.waits)}`,
  });
  if (CFG.jsAtMax) {
    // e2e near this broker's own maximum: 80 % of what the unthrottled writer just reached,
    // capped at what the single-threaded open-loop client can generate (about 60 MiB/s of 1 KiB
    // records here; above that the client's own backlog would be measured)
    const target = Math.min(OPEN_LOOP_CAP_MBPS, Number((0.8 * maxMBps).toFixed(1)));
    await openLoopRows(p, P, "80%max", target, `target = min(80% of the unthrottled maximum, ${OPEN_LOOP_CAP_MBPS} MiB/s); `);
  }
}

/** Sequential: Kafka's EndToEndLatency, then the tinybench tasks. */
async function sequentialPoint(p: Pass, P: number): Promise<void> {
  const b = p.b;
  const topic = `lat-p${P}`;
  if (CFG.java) {
    const e = await endToEndLatency(b.bootstrap, topic, CFG.e2eToolRecords);
    latencyRow(b, {
      partitions: P, step: "seq", targetMBps: 0, achievedMBps: (e.n * RECORD_BYTES) / 1048576 / (e.avgMs * e.n / 1000), metric: "e2e", tool: "kafka-e2e-latency",
      p50Ms: e.p50, p95Ms: null, p99Ms: e.p99, p999Ms: e.p999, n: e.n, note: e.raw,
    });
  }
  const sq = await sequential(b.host, b.port, topic, CFG.seqMs);
  for (const metric of ["produce", "e2e"] as const) {
    const s = sq[metric];
    latencyRow(b, {
      partitions: P, step: "seq", targetMBps: 0, achievedMBps: metric === "e2e" ? sq.achievedMBps : RECORD_BYTES / 1048576 / (s.p50 / 1000), metric, tool: "wire-client/tinybench",
      p50Ms: s.p50, p95Ms: s.p95, p99Ms: s.p99, p999Ms: s.p999, n: s.n,
    });
  }
}

/** Fill a topic, kill -9, restart: timed until every acknowledged record is listed again. */
async function recovery(p: Pass): Promise<void> {
  const b = p.b;
  const RP = 4;
  await createTopic(b.bootstrap, "recovery", RP);
  const t0 = performance.now();
  const acked = await fill(b, "recovery", RP, CFG.recoveryMiB);
  log(`  ${b.spec.kind}: filled ${CFG.recoveryMiB} MiB in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  extraRow(b, "rss", `after writing ${CFG.recoveryMiB} MiB`, rssMiB(b.pid()), "MiB");
  await b.kill9();
  const r0 = performance.now();
  const readyMs = await b.start();
  const c = await WireClient.connect(b.host, b.port, "vs-kafka-recovery");
  try {
    while (true) {
      try {
        const ends = await endOffsets(c, "recovery", RP);
        const sum = ends.reduce((a, x) => a + x, 0);
        if (sum >= acked) break;
        if (performance.now() - r0 > 300_000) throw new Error(`after kill -9 only ${sum} of ${acked} acknowledged records are listed`);
      } catch (e) {
        if (performance.now() - r0 > 300_000) throw e;
      }
      await Bun.sleep(10);
    }
  } finally {
    c.close();
  }
  const servedMs = performance.now() - r0;
  const label = `kill -9 with ${CFG.recoveryMiB >= 1024 ? `${CFG.recoveryMiB / 1024} GiB` : `${CFG.recoveryMiB} MiB`}`;
  extraRow(b, "recovery", `${label}: ready`, readyMs, "ms", "spawn → Metadata answered");
  extraRow(b, "recovery", `${label}: all data listed`, servedMs, "ms", "spawn → ListOffsets covers every acknowledged record");
  extraRow(b, "rss", "after recovery", rssMiB(b.pid()), "MiB");
}

/** The passes of the durability setting under way (for the signal handler below). */
let running: Pass[] = [];

/** This process's children still running (from /proc: field 4 of each stat line is the parent). */
function childPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (Number(procStatFields(`/proc/${entry}/stat`)[1]) === process.pid) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

// Interrupted (Ctrl-C, kill): a paused broker would stay behind stopped, holding its memory and
// port, so every broker of the run is resumed and killed before exiting, and so is a load tool
// still running (a ProducerPerformance JVM would otherwise go on writing into the next run).
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    for (const p of running) {
      try {
        p.b.resume();
        process.kill(p.b.pid(), "SIGKILL");
      } catch {
        // not started or gone
      }
    }
    for (const pid of childPids()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
    process.exit(130);
  });
}

/** One durability setting: both brokers started, then every grid step in turns, then recovery. */
async function runDurability(kinds: BrokerKind[], durability: Durability, checkpoint: () => void): Promise<void> {
  log(`== durability ${durability}: ${kinds.join(", ")} in turns`);
  const passes: Pass[] = [];
  running = passes;
  try {
    for (const kind of kinds) {
      const probeOut = join(OUT, `${RUN_ID}-probe-${durability}.jsonl`);
      const probe = PROBE && kind === "bunka" ? { bunArgs: ["--preload", join(import.meta.dir, "probe.ts")], env: { VSK_PROBE_OUT: probeOut } } : {};
      const overrides = kind === "bunka" ? { overrides: BUNKA_OVERRIDES } : {};
      const spec = { kind, durability, dataDir: join(DATA_ROOT, `${kind}-${durability}`), heap: HEAP, ...probe, ...overrides };
      const p: Pass = { b: await createBroker(spec, { fresh: true }), peakRss: 0, failed: false, topics: new Map() };
      passes.push(p);
      // started while the other broker (if any) is paused: startup is timed alone
      await turn(p, "start", () => startPass(p), false);
    }
    log(`  ${freshMemory()}`);
    for (const p of passes) await turn(p, "warm-up", () => warmUp(p), false);
    const sampler = setInterval(() => passes.forEach(sampleRss), 250);
    try {
      let i = 0;
      for (const P of CFG.partitions) {
        const topic = `lat-p${P}`;
        for (const p of passes)
          await turn(p, `topic ${topic}`, async () => {
            const t0 = performance.now();
            await createTopic(p.b.bootstrap, topic, P);
            p.topics.set(topic, P);
            log(`  ${p.b.spec.kind}: topic ${topic} ready in ${(performance.now() - t0).toFixed(0)} ms`);
          });
        for (const rate of CFG.rates) for (const p of inTurns(passes, i++)) await turn(p, `P=${P} ${rate} MiB/s`, () => ratePoint(p, P, rate));
        if (CFG.max) for (const p of inTurns(passes, i++)) await turn(p, `P=${P} max`, () => maxPoint(p, P));
        if (!SKIP.has("seq")) for (const p of inTurns(passes, i++)) await turn(p, `P=${P} sequential`, () => sequentialPoint(p, P));
        checkpoint();
      }
    } finally {
      clearInterval(sampler);
    }
    for (const p of passes) if (!p.failed) extraRow(p.b, "rss", "peak under load", p.peakRss, "MiB", "max VmRSS sampled every 250 ms during the grid");
    for (const p of passes) {
      if (!SKIP.has("recovery")) await turn(p, "recovery", () => recovery(p));
      await p.b.stop().catch((e) => console.error(`stop failed: ${e}`));
    }
  } finally {
    for (const p of passes) {
      await p.b.stop().catch((e) => console.error(`stop failed: ${e}`));
      // A full pass leaves ~9 GiB of segments per broker and durability (a full run: ~37 GiB); keep
      // only the logs for a post-mortem unless VSK_KEEP_DATA=1.
      if (process.env.VSK_KEEP_DATA !== "1") rmSync(join(p.b.spec.dataDir, "logs"), { recursive: true, force: true });
    }
    running = []; // stopped: their pids may be reused
    checkpoint();
  }
}

// ------------------------------------------------------------------------------- main

function javaVersion(): string {
  const r = Bun.spawnSync(["java", "-version"], { stderr: "pipe" });
  return r.stderr.toString().split("\n")[0]?.trim() ?? "java ?";
}

async function main(): Promise<void> {
  mkdirSync(DATA_ROOT, { recursive: true });
  const env = {
    runId: RUN_ID,
    mode: MODE,
    command: `bun bench/vs-kafka/run.ts ${argv.join(" ")}`.trim(),
    ...describeEnvironment(DATA_ROOT),
    java: javaVersion(),
    kafkaHeap: HEAP,
    clientMimallocPurgeDelay: process.env.MIMALLOC_PURGE_DELAY ?? "(default)",
    loadStart: loadavg().map((x) => x.toFixed(2)).join(" "),
    loadEnd: "",
    config: { ...CFG, steal: STEAL_RULE, repeat: REPEAT, probe: PROBE, bunkaOverrides: BUNKA_OVERRIDES },
  };
  log(`vs-kafka ${MODE}: ${JSON.stringify(CFG)}; data under ${DATA_ROOT} (${env.fsType}); load ${env.loadStart}`);
  const brokers: BrokerKind[] = only ? [only] : ["kafka", "bunka"];
  const durs: Durability[] = onlyDur ? [onlyDur] : ["none", "fsync"];
  const started = performance.now();
  mkdirSync(OUT, { recursive: true });
  // Written after every partition count and durability, so a late failure keeps what was measured.
  const writeResults = () => {
    env.loadEnd = loadavg().map((x) => x.toFixed(2)).join(" ");
    const minutes = ((performance.now() - started) / 60000).toFixed(1);
    const json = JSON.stringify(rows, null, 1) + "\n";
    const md =
      `## Bunka vs Apache Kafka — ${MODE} run\n\n` +
      markdown(rows, env) +
      (failures.length ? `\n**Failed passes:** ${failures.join("; ")}\n` : "") +
      `\nTook ${minutes} min. Raw rows: \`${RUN_ID}.json\`; environment: \`${RUN_ID}.env.json\`. Plot: latest.svg.\n`;
    const title = `End-to-end latency vs throughput, Bunka vs Apache Kafka 4.3.1 (${MODE} run ${RUN_ID.slice(0, 10)})`;
    writeFileSync(join(OUT, `${RUN_ID}.json`), json);
    writeFileSync(join(OUT, `${RUN_ID}.env.json`), JSON.stringify({ ...env, failures, minutes }, null, 1) + "\n");
    writeFileSync(join(OUT, "latest.json"), json);
    writeFileSync(join(OUT, "latest.md"), md);
    writeFileSync(join(OUT, "latest.svg"), svg(rows, title));
    return md;
  };
  for (const d of durs) {
    try {
      await runDurability(brokers, d, writeResults);
    } catch (e) {
      // keep going: the other durability is still worth having; the harness test sees the exit code
      failures.push(`${d}: ${(e as Error).message.split("\n")[0]}`);
      console.error(e);
    }
  }
  const md = writeResults();
  log(`done in ${((performance.now() - started) / 60000).toFixed(1)} min`);
  console.log(md);
  console.log(`wrote ${OUT}/{${RUN_ID}.json,latest.json,latest.md,latest.svg}`);
  if (failures.length) {
    console.error(`failed passes: ${failures.join("; ")}`);
    process.exit(1);
  }
}

await main();
process.exit(0);
