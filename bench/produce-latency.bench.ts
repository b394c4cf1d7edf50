/**
 * Produce latency: acks=all round trip, group commit under concurrency, and produce→fetch
 * end-to-end latency, in durable mode (the default: ack after fdatasync) and in flush-interval
 * mode (log.flush.interval.ms=1000: ack after the page-cache write), against physical floors
 * (4 KiB write+fdatasync, loopback TCP ping-pong) measured in the same run.
 *
 *   bun bench/produce-latency.bench.ts            # full run, ~2 minutes
 *   bun bench/produce-latency.bench.ts --quick    # short run, < 40 s
 *
 * The benchmark starts its own broker (test/support/broker.ts) with a fresh data dir under the
 * repo's .cache/bench-data/ (the real filesystem, not tmpfs; the type is printed), creates a
 * one-partition topic and uses the wire client directly, so no client-library batching or linger
 * is in the way. Records are 1 KiB values, one record per batch, Produce v9, acks=-1.
 *
 * Statistics: round-trip figures are tinybench's own latency statistics (mean/p50/p99/max); p95,
 * which tinybench does not report, is computed from its retained samples with the same
 * interpolation. Concurrent cases use tinybench's task concurrency (`threshold` = in-flight
 * requests), each in-flight request on its own connection; their ops/s is completed requests over
 * measured wall time. End-to-end figures are collected with performance.now() (the latency is
 * between two events on two connections, which a tinybench task cannot time) and summarized by
 * bench/lib/stats.ts. A JSON copy of the results goes to .cache/bench-results/.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { Bench } from "tinybench";
import { Fetch, Produce } from "../src/client/codecs.ts";
import { buildRecordBatch } from "../src/client/record-batch-builder.ts";
import { WireClient } from "../src/client/wire-client.ts";
import { REPO_ROOT, startBunka, type BrokerHandle } from "../test/support/broker.ts";
import { describeEnvironment, processCpuMs } from "./lib/env.ts";
import { measureFsyncFloors, measureTcpFloor } from "./lib/floors.ts";
import { checkProduce, createTopic, fetchRequest, FETCH_VERSION, produceRequest, PRODUCE_VERSION } from "./lib/kafka.ts";
import { readRecordValues, readStamp, stampValue } from "./lib/records.ts";
import { fmtMs, fromTinybench, summarize, table, type Row } from "./lib/stats.ts";

const QUICK = process.argv.includes("--quick");
const CFG = QUICK
  ? { timeMs: 600, warmupMs: 150, floorMs: 500, e2eIterations: 300, e2eWarmup: 50, concurrency: [1, 8, 64] }
  : { timeMs: 4000, warmupMs: 500, floorMs: 2500, e2eIterations: 2000, e2eWarmup: 200, concurrency: [1, 8, 64] };
const RECORD_BYTES = 1024;
const TOPIC = "latency";
const FETCH_MAX_WAIT_MS = 500;

interface Mode {
  name: string;
  overrides: Record<string, string>;
}
const MODES: Mode[] = [
  { name: "durable", overrides: {} },
  { name: "flush-interval 1s", overrides: { "log.flush.interval.ms": "1000" } },
];

function oneRecordBatch(seq = 0): Uint8Array {
  const value = new Uint8Array(RECORD_BYTES);
  for (let i = 16; i < RECORD_BYTES; i++) value[i] = (i * 31 + seq) & 0xff;
  stampValue(value, seq, performance.now());
  return buildRecordBatch([{ value }]);
}

/** Per-phase broker CPU, so a latency can be set against CPU spent per request. */
function brokerCpuNote(broker: BrokerHandle, startCpuMs: number, ops: number): string {
  const pid = broker.proc?.pid;
  if (!pid || ops === 0) return "";
  const cpu = processCpuMs(pid) - startCpuMs;
  return `broker CPU ${((cpu * 1000) / ops).toFixed(0)} µs/op`;
}

async function roundTrips(broker: BrokerHandle, mode: Mode): Promise<Row[]> {
  const rows: Row[] = [];
  const maxConc = Math.max(...CFG.concurrency);
  const conns: WireClient[] = [];
  for (let i = 0; i < maxConc; i++) conns.push(await WireClient.connect(broker.host, broker.port, `lat-${i}`));
  const req = produceRequest(TOPIC, 0, oneRecordBatch());
  const pid = broker.proc!.pid;

  // 1. One producer, one request at a time (tinybench sequential mode).
  {
    const c = conns[0]!;
    let cpu0 = 0;
    const bench = new Bench({ name: `produce ${mode.name}`, time: CFG.timeMs, warmupTime: CFG.warmupMs, retainSamples: true, throws: true });
    bench.add(
      "produce RTT, 1 producer",
      async () => {
        checkProduce(await c.send(Produce, PRODUCE_VERSION, req));
      },
      { beforeAll: (m) => void (m === "run" && (cpu0 = processCpuMs(pid))) },
    );
    await bench.run();
    const s = fromTinybench(bench.tasks[0]!);
    rows.push({ name: `[${mode.name}] produce RTT, 1 producer, sequential`, s, note: brokerCpuNote(broker, cpu0, s.n) });
  }

  // 2. N in flight, one connection each (tinybench task concurrency).
  for (const n of CFG.concurrency) {
    const pool = conns.slice(0, n);
    let inFlight = 0;
    let maxInFlight = 0;
    let wall0 = 0;
    let wallMs = 0;
    let cpu0 = 0;
    const bench = new Bench({
      name: `produce ${mode.name} x${n}`,
      time: CFG.timeMs,
      warmupTime: CFG.warmupMs,
      iterations: 0,
      warmupIterations: 0,
      concurrency: "task",
      threshold: n,
      retainSamples: true,
      throws: true,
    });
    bench.add(
      `produce RTT, ${n} in flight`,
      async () => {
        const c = pool.pop();
        if (!c) throw new Error("connection pool empty: more iterations in flight than the threshold");
        inFlight++;
        if (inFlight > maxInFlight) maxInFlight = inFlight;
        try {
          checkProduce(await c.send(Produce, PRODUCE_VERSION, req));
        } finally {
          inFlight--;
          pool.push(c);
        }
      },
      {
        beforeAll: (m) => {
          if (m !== "run") return;
          maxInFlight = 0;
          cpu0 = processCpuMs(pid);
          wall0 = performance.now();
        },
        afterAll: (m) => {
          if (m === "run") wallMs = performance.now() - wall0;
        },
      },
    );
    await bench.run();
    const s = fromTinybench(bench.tasks[0]!, wallMs);
    rows.push({
      name: `[${mode.name}] produce RTT, ${n} in flight (${n} conns)`,
      s,
      note: `max in flight ${maxInFlight}; ${brokerCpuNote(broker, cpu0, s.n)}`,
    });
  }
  // 3. One producer with 1 ms think time between requests (perf.now samples): the same pacing as
  //    the end-to-end loop below, without a consumer, to separate idle wake-up cost from the
  //    cost of waking a parked fetch.
  {
    const c = conns[0]!;
    const samples: number[] = [];
    for (let i = 0; i < CFG.e2eWarmup; i++) checkProduce(await c.send(Produce, PRODUCE_VERSION, req));
    const cpu0 = processCpuMs(pid);
    const wall0 = performance.now();
    for (let i = 0; i < CFG.e2eIterations; i++) {
      const t = performance.now();
      checkProduce(await c.send(Produce, PRODUCE_VERSION, req));
      samples.push(performance.now() - t);
      await Bun.sleep(1);
    }
    const s = summarize(samples, performance.now() - wall0);
    rows.push({ name: `[${mode.name}] produce RTT, 1 producer, 1 ms think time`, s, note: brokerCpuNote(broker, cpu0, s.n) });
  }
  for (const c of conns) c.close();
  return rows;
}

async function endToEnd(broker: BrokerHandle, mode: Mode): Promise<Row[]> {
  const producer = await WireClient.connect(broker.host, broker.port, "e2e-producer");
  const consumer = await WireClient.connect(broker.host, broker.port, "e2e-consumer");
  // Start the consumer at the current log end: produce a probe and read its offset.
  let nextOffset = checkProduce(await producer.send(Produce, PRODUCE_VERSION, produceRequest(TOPIC, 0, oneRecordBatch()))) + 1;

  const seen = new Map<number, number>(); // seq -> decoded-at time
  const waiters = new Map<number, () => void>();
  let fetches = 0;
  let emptyFetches = 0;
  let running = true;
  let consumerError: unknown = null;

  const consumerLoop = (async () => {
    while (running) {
      const res = await consumer.send(Fetch, FETCH_VERSION, fetchRequest(TOPIC, 0, nextOffset, FETCH_MAX_WAIT_MS));
      const decodedAt = performance.now();
      fetches++;
      const pd = res.responses[0]?.partitions[0];
      if (!pd || pd.errorCode !== 0) throw new Error(`Fetch error ${res.errorCode ?? ""}/${pd?.errorCode}`);
      const records = readRecordValues(pd.records);
      if (records.length === 0) emptyFetches++;
      for (const r of records) {
        if (r.offset < nextOffset) continue;
        nextOffset = r.offset + 1;
        const stamp = readStamp(r.value);
        if (!stamp) continue;
        seen.set(stamp.seq, decodedAt);
        waiters.get(stamp.seq)?.();
      }
    }
  })().catch((e) => {
    consumerError = e;
    for (const w of waiters.values()) w();
  });

  const ack: number[] = [];
  const e2e: number[] = [];
  const total = CFG.e2eWarmup + CFG.e2eIterations;
  const pid = broker.proc!.pid;
  let cpu0 = processCpuMs(pid);
  let wall0 = performance.now();
  await Bun.sleep(5); // let the first fetch park
  for (let seq = 1; seq <= total; seq++) {
    if (seq === CFG.e2eWarmup + 1) {
      cpu0 = processCpuMs(pid);
      wall0 = performance.now();
    }
    const arrived = new Promise<void>((r) => waiters.set(seq, r));
    const value = new Uint8Array(RECORD_BYTES);
    const sentAt = performance.now();
    stampValue(value, seq, sentAt);
    const res = await producer.send(Produce, PRODUCE_VERSION, produceRequest(TOPIC, 0, buildRecordBatch([{ value }])));
    const ackedAt = performance.now();
    checkProduce(res);
    await arrived;
    waiters.delete(seq);
    if (consumerError) throw consumerError;
    const decodedAt = seen.get(seq)!;
    seen.delete(seq);
    if (seq > CFG.e2eWarmup) {
      ack.push(ackedAt - sentAt);
      e2e.push(decodedAt - sentAt);
    }
    // Low load, and time for the consumer's next long poll to reach the broker and park.
    await Bun.sleep(1);
  }
  const wallMs = performance.now() - wall0;
  const cpuNote = brokerCpuNote(broker, cpu0, CFG.e2eIterations);
  running = false;
  producer.close();
  consumer.close();
  await consumerLoop;
  const fetchNote = `${fetches} fetches, ${emptyFetches} empty`;
  return [
    { name: `[${mode.name}] e2e produce→fetch decoded`, s: summarize(e2e, wallMs), note: `${fetchNote}; ${cpuNote}` },
    { name: `[${mode.name}] produce ack in the e2e loop`, s: summarize(ack, wallMs), note: "same sends, time to ack" },
  ];
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const base = join(REPO_ROOT, ".cache", "bench-data");
  mkdirSync(base, { recursive: true });
  const env = describeEnvironment(base);
  console.log(`produce-latency${QUICK ? " --quick" : ""}: ${env.date}`);
  console.log(`machine: ${env.cores} cores, ${env.cpuModel}, Linux ${env.kernel}, Bun ${env.bun}`);
  console.log(`data dir: ${base} on ${env.fsType} (${env.device})`);
  console.log(`load average at start: ${loadavg().map((x) => x.toFixed(2)).join(" ")}\n`);

  const rows: Row[] = [];

  const floorDir = mkdtempSync(join(base, "floors-"));
  try {
    rows.push(...(await measureFsyncFloors({ dir: floorDir, timeMs: CFG.floorMs, warmupMs: CFG.warmupMs })));
  } finally {
    rmSync(floorDir, { recursive: true, force: true });
  }
  rows.push(...(await measureTcpFloor({ timeMs: CFG.floorMs, warmupMs: CFG.warmupMs })));
  console.log(table(rows) + "\n");

  for (const mode of MODES) {
    const dataDir = mkdtempSync(join(base, "produce-latency-"));
    const broker = await startBunka({ dataDir, overrides: mode.overrides, name: "bench-produce-latency" });
    try {
      const admin = await WireClient.connect(broker.host, broker.port, "bench-admin");
      await createTopic(admin, TOPIC, 1);
      admin.close();
      const modeRows = [...(await roundTrips(broker, mode)), ...(await endToEnd(broker, mode))];
      console.log(table(modeRows) + "\n");
      rows.push(...modeRows);
    } finally {
      await broker.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }

  const elapsed = (performance.now() - t0) / 1000;
  console.log(`## All results (${QUICK ? "--quick" : "full"}, ${elapsed.toFixed(0)} s; load average at end ${loadavg().map((x) => x.toFixed(2)).join(" ")})\n`);
  console.log(table(rows));
  const durable = rows.find((r) => r.name.startsWith("[durable] produce RTT, 1 producer"));
  if (durable) {
    const ok = durable.s.p99 < 1;
    console.log(`\ntarget p99 produce ack < 1 ms at low load (durable): p99 = ${fmtMs(durable.s.p99)} → ${ok ? "MET" : "NOT MET"}`);
  }
  const outDir = join(REPO_ROOT, ".cache", "bench-results");
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, `produce-latency-${env.date.replace(/[:.]/g, "-")}.json`);
  writeFileSync(out, JSON.stringify({ quick: QUICK, env, config: CFG, rows }, null, 2));
  console.log(`raw results: ${out}`);
}

await main();
process.exit(0);
