/**
 * Where does a broker's time go at one grid point? Starts one broker alone (fresh data), runs the
 * open-loop wire-client load at one (partitions, rate) point and meanwhile records:
 *   - `perf stat -p PID` over the measured window: task-clock, context switches, page faults and
 *     syscalls (raw_syscalls:sys_enter), reported per MiB acknowledged;
 *   - Bunka only: event-loop utilisation and timer lateness from bench/vs-kafka/probe.ts preloaded
 *     into the server, and with --cpu-prof a Markdown CPU profile (bun --cpu-prof-md) on exit.
 *
 *   nice -n -10 bun bench/vs-kafka/profile.ts --broker bunka --durability none --partitions 1 --rate 10 [--cpu-prof]
 */
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../../test/support/broker.ts";
import { createTopic } from "../../test/support/tools.ts";
import { processCpuMs, procStatFields, threadCpuMs } from "../lib/env.ts";
import { createBroker, type BrokerKind, type Durability } from "./brokers.ts";
import { openLoop, percentiles, RECORD_BYTES, type OpenLoopResult } from "./js-load.ts";
import { WireClient } from "../../src/client/wire-client.ts";
import { Produce } from "../../src/client/codecs.ts";
import { buildRecordBatch } from "../../src/client/record-batch-builder.ts";
import { runWithClientProcessEnv } from "../lib/client-process-env.ts";

// the client keeps its freed pages, as the broker does (see client-process-env.ts)
await runWithClientProcessEnv();

async function unthrottledWrite(host: string, port: number, topic: string, partitions: number, ms: number): Promise<OpenLoopResult> {
  const c = await WireClient.connect(host, port, "vs-kafka-prof");
  const value = new Uint8Array(RECORD_BYTES).fill(7);
  const batch = buildRecordBatch(Array.from({ length: 256 }, () => ({ value })));
  const lat: number[] = [];
  const t0 = performance.now();
  let sent = 0;
  let acked = 0;
  const inflight = new Set<Promise<void>>();
  // MiB/s per second on stderr: a slow pass shows whether it is slow throughout or in phases.
  let ackedAtTick = 0;
  const tick = setInterval(() => {
    process.stderr.write(`${(((acked - ackedAtTick) * RECORD_BYTES) / 1048576).toFixed(0)} `);
    ackedAtTick = acked;
  }, 1000);
  while (performance.now() - t0 < ms) {
    const r0 = performance.now();
    const p = c
      .send(Produce, 9, { transactionalId: null, acks: -1, timeoutMs: 30_000, topicData: [{ name: topic, partitionData: [{ index: sent++ % partitions, records: batch }] }] })
      .then(() => {
        acked += 256;
        lat.push(performance.now() - r0);
      });
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
    if (inflight.size >= 8) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  clearInterval(tick);
  process.stderr.write("MiB/s per second\n");
  c.close();
  const s = percentiles(lat);
  const mbps = (acked * RECORD_BYTES) / 1048576 / ((performance.now() - t0) / 1000);
  return { produce: s, e2e: s, achievedMBps: mbps, unacked: 0, unconsumed: 0, requests: lat.length, recordsPerRequest: 256 };
}

const argv = process.argv.slice(2);
const opt = (n: string, d: string) => {
  const i = argv.indexOf(n);
  return i >= 0 ? argv[i + 1]! : d;
};
const kind = opt("--broker", "bunka") as BrokerKind;
const durability = opt("--durability", "none") as Durability;
const P = Number(opt("--partitions", "1"));
const rate = Number(opt("--rate", "10"));
const seconds = Number(opt("--seconds", "8"));
const cpuProf = argv.includes("--cpu-prof");
/** --unthrottled: 256-record batches, 8 in flight, round-robin, for --seconds (instead of the open loop). */
const unthrottled = argv.includes("--unthrottled");
/** --no-perf: no `perf stat` (its per-syscall tracepoints slow the broker: use it for latency A/Bs). */
const noPerf = argv.includes("--no-perf");
/**
 * --prefill P:S[,P:S…]: before the measured window, a topic of P partitions is written unthrottled
 * for S seconds (each), as the full grid's earlier points leave the broker (more topics, a full hot
 * cache, gigabytes written).
 */
const prefill = opt("--prefill", "")
  .split(",")
  .filter(Boolean)
  .map((spec) => spec.split(":").map(Number) as [number, number]);
/**
 * --cycles N --pause S: after the main window, N more windows of the same load, each after the
 * broker was paused (SIGSTOP) for S seconds, as the full grid pauses each broker through the
 * other's turn. Each window's e2e percentiles and the probe's stalls during it are printed.
 */
const cycles = Number(opt("--cycles", "0"));
const pauseSeconds = Number(opt("--pause", "60"));
/** --warmup MS: records stamped in the first MS are not measured (default 0). */
const warmupOpt = Number(opt("--warmup", "0"));
const overrides: Record<string, string> = {};
/** --env K=V (repeatable): extra environment for the broker only (e.g. BUN_JSC_logGC=1), not this client. */
const brokerEnv: Record<string, string> = {};
argv.forEach((a, i) => {
  if (a === "--override" || a === "--env") {
    const [k, ...v] = argv[i + 1]!.split("=");
    (a === "--override" ? overrides : brokerEnv)[k!] = v.join("=");
  }
});
const outDir = join(REPO_ROOT, ".cache", "bench-profile", `${kind}-${durability}-p${P}-r${rate}${Object.entries(overrides).map(([k, v]) => `-${k}=${v}`).join("")}`);
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const probeOut = join(outDir, "probe.jsonl");
const ioStatsFile = join(outDir, "io-stats.json");

/** Bunka only: the segment I/O engine's counters (SIGUSR2 makes the broker write them). */
async function ioStats(pid: number): Promise<Record<string, number> | null> {
  if (kind !== "bunka") return null;
  try {
    rmSync(ioStatsFile, { force: true });
    process.kill(pid, "SIGUSR2");
    for (let i = 0; i < 50; i++) {
      await Bun.sleep(20);
      try {
        const all = JSON.parse(readFileSync(ioStatsFile, "utf8")) as Record<string, unknown>;
        const engine = Object.values(all).find((v): v is Record<string, number> => typeof v === "object" && v !== null && "fdatasyncs" in v && "wakeups" in v);
        return engine ?? null;
      } catch {
        // not written yet
      }
    }
  } catch {
    // diagnostics only
  }
  return null;
}

/** The probe's per-second lines so far (none: not Bunka, or not written yet). */
function readProbe(): { t: number; elu: number; delayMaxMs: number; delayP99Ms: number; rssMiB: number; stalls?: [number, number][] }[] {
  try {
    return readFileSync(probeOut, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}

const b = await createBroker(
  {
    kind,
    durability,
    dataDir: join(REPO_ROOT, ".cache", "bench-data", "vs-kafka", `profile-${kind}-${durability}`),
    heap: "2g",
    bunArgs: [
      "--preload",
      join(import.meta.dir, "probe.ts"),
      ...(cpuProf ? ["--cpu-prof-md", `--cpu-prof-dir=${outDir}`] : []),
    ],
    env: { VSK_PROBE_OUT: probeOut, BUNKA_IO_STATS_FILE: ioStatsFile, ...brokerEnv },
    overrides,
  },
  { fresh: true },
);
try {
  await b.start();
  for (const [i, [partitions, secs]] of prefill.entries()) {
    await createTopic(b.bootstrap, `prefill-${i}`, partitions);
    const r = await unthrottledWrite(b.host, b.port, `prefill-${i}`, partitions, secs * 1000);
    console.error(`prefill ${partitions} partitions × ${secs} s: ${r.achievedMBps.toFixed(0)} MiB/s`);
  }
  await createTopic(b.bootstrap, "prof", P);
  const pid = b.pid();
  const warmupMs = 2000;
  const perf = Bun.spawn(
    noPerf ? ["sleep", "0"] : ["perf", "stat", "-x", ",", "-e", "task-clock,context-switches,page-faults,raw_syscalls:sys_enter,syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync,syscalls:sys_enter_write,syscalls:sys_enter_pwrite64,syscalls:sys_enter_futex,syscalls:sys_enter_epoll_wait", "-p", String(pid), "--", "sleep", String(seconds)],
    { stdout: "pipe", stderr: "pipe" },
  );
  const io0 = await ioStats(pid);
  const cpu0 = processCpuMs(pid);
  const loop0 = threadCpuMs(pid, pid);
  const client0 = process.cpuUsage();
  const res = unthrottled
    ? await unthrottledWrite(b.host, b.port, "prof", P, seconds * 1000)
    : await openLoop({ host: b.host, port: b.port, topic: "prof", partitions: P, targetMBps: rate, warmupMs: warmupOpt, durationMs: seconds * 1000 });
  const cpuMs = processCpuMs(pid) - cpu0;
  const loopMs = threadCpuMs(pid, pid) - loop0;
  const client = process.cpuUsage(client0);
  const io1 = await ioStats(pid);
  const perfErr = await new Response(perf.stderr).text();
  await perf.exited;
  void warmupMs;
  const mib = res.achievedMBps * (seconds + warmupOpt / 1000);
  const counters: Record<string, number> = {};
  for (const line of perfErr.split("\n")) {
    const f = line.split(",");
    if (f.length > 3 && f[0] && !Number.isNaN(Number(f[0]))) counters[f[2]!] = Number(f[0]);
  }
  const probe = readProbe();
  const summary = {
    broker: kind,
    overrides,
    durability,
    partitions: P,
    targetMBps: rate,
    achievedMBps: Number(res.achievedMBps.toFixed(2)),
    e2e: { p50: res.e2e.p50, p99: res.e2e.p99, p999: res.e2e.p999 },
    produce: { p50: res.produce.p50, p99: res.produce.p99 },
    recordsPerRequest: Number(res.recordsPerRequest.toFixed(1)),
    brokerCpuMsPerMiB: Number((cpuMs / mib).toFixed(1)),
    brokerCpuPct: Number(((cpuMs / (seconds * 1000)) * 100).toFixed(0)),
    /** The JS thread's share of it (the rest: the worker pool, the I/O engine, the collector's helpers). */
    brokerLoopCpuPct: Number(((loopMs / (seconds * 1000)) * 100).toFixed(0)),
    /** This process (the load generator and consumer), all threads. */
    clientCpuPct: Number((((client.user + client.system) / 1000 / (seconds * 1000 + warmupOpt)) * 100).toFixed(0)),
    requests: res.requests,
    /** Engine counters over the window, per produce request (null: no native engine in use). */
    ioPerRequest:
      io0 && io1 && res.requests > 0
        ? Object.fromEntries(
            ["writes", "syncRequests", "submits", "fdatasyncs", "inlineSyncs", "syncfsCalls", "syncfsCovered", "syncfsMicros", "wakeups", "notifies", "cycles"].map((k) => [k, Number((((io1[k] ?? 0) - (io0[k] ?? 0)) / res.requests).toFixed(2))]),
          )
        : null,
    perfPerMiB: Object.fromEntries(Object.entries(counters).map(([k, v]) => [k, Number((v / mib).toFixed(1))])),
    probe: probe.length
      ? {
          eluMean: Number((probe.reduce((a, p) => a + p.elu, 0) / probe.length).toFixed(3)),
          eluMax: Math.max(...probe.map((p) => p.elu)),
          timerDelayMaxMs: Math.max(...probe.map((p) => p.delayMaxMs)),
          timerDelayP99MaxMs: Math.max(...probe.map((p) => p.delayP99Ms)),
          rssMiBMax: Math.max(...probe.map((p) => p.rssMiB)),
        }
      : null,
  };
  console.log(JSON.stringify(summary, null, 1));
  for (let c = 1; c <= cycles; c++) {
    b.pause();
    await Bun.sleep(pauseSeconds * 1000);
    b.resume();
    const t0 = Date.now();
    // minor faults (field 10 of proc(5)'s stat): how much fresh memory the broker touched
    const faults0 = Number(procStatFields(`/proc/${pid}/stat`)[7]);
    const r = unthrottled
      ? await unthrottledWrite(b.host, b.port, "prof", P, seconds * 1000)
      : await openLoop({ host: b.host, port: b.port, topic: "prof", partitions: P, targetMBps: rate, warmupMs: warmupOpt, durationMs: seconds * 1000 });
    const faultsPerMiB = (Number(procStatFields(`/proc/${pid}/stat`)[7]) - faults0) / (r.achievedMBps * seconds);
    const stalls = readProbe()
      .filter((p) => p.t >= t0)
      .flatMap((p) => (p.stalls ?? []) as [number, number][])
      .filter(([at]) => at >= t0)
      .map(([at, ms]) => `+${((at - t0) / 1000).toFixed(1)}s:${ms}`);
    const f = (x: number) => x.toFixed(2);
    console.log(`cycle ${c} (after ${pauseSeconds} s paused): ${f(r.achievedMBps)} MiB/s, broker minor faults ${faultsPerMiB.toFixed(0)} per MiB; e2e p50 ${f(r.e2e.p50)} p99 ${f(r.e2e.p99)} p99.9 ${f(r.e2e.p999)} ms; stalls ${stalls.join(" ") || "none"}`);
  }
} finally {
  await b.stop();
}
if (cpuProf) console.log(`CPU profile (Markdown) in ${outDir}`);
process.exit(0);
