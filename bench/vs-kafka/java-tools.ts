/**
 * Kafka's own load tools, run from the 4.3.1 jars in .cache/kafka/libs, identically against both
 * brokers:
 *
 *   ProducerPerformance (kafka-producer-perf-test): --throughput records/s, --record-size 1024,
 *     --command-property acks=all linger.ms=0 (other producer settings at their 4.x defaults:
 *     idempotence on, batch.size 16 KiB, max.in.flight 5, the built-in sticky partitioner).
 *     Its latency of a record is send() → callback, so it includes client-side queueing. It prints
 *     the steady-state summary (after --warmup-records) with 50th/95th/99th/99.9th percentiles as
 *     WHOLE milliseconds (the tool truncates), plus records/sec and MB/sec.
 *
 *   EndToEndLatency (kafka-e2e-latency): positional `bootstrap topic num-records acks record-size`;
 *     one record at a time: producer.send().get(), then consumer.poll() (fetch.max.wait.ms=0) until
 *     that record is back. It prints "Avg latency: X ms" and "Percentiles: 50th = A, 99th = B,
 *     99.9th = C" — whole milliseconds again, and no 95th (reported as null here).
 */
import { join } from "node:path";
import { REPO_ROOT } from "../../test/support/broker.ts";
import { run } from "../../test/support/tools.ts";

const LIBS = join(REPO_ROOT, ".cache", "kafka", "libs");
const LOG4J = join(REPO_ROOT, "scripts", "kafka", "log4j2-client.properties");

/**
 * The load tools run with C1 only and the serial GC: on 2 cores a client JVM's C2 compiler threads
 * and G1 workers took 1.5 cores during the first seconds of a short run (the broker's share).
 */
function javaCmd(mainClass: string, args: string[], heap = "512m"): string[] {
  return [
    "java", `-Xms${heap}`, `-Xmx${heap}`, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
    `-Dlog4j2.configurationFile=${LOG4J}`, "-cp", `${LIBS}/*`, mainClass, ...args,
  ];
}

export interface PerfResult {
  /** True when the run hit its time limit and was stopped: figures from the per-second windows. */
  timeBounded?: boolean;
  records: number;
  recordsPerSec: number;
  mbPerSec: number;
  avgMs: number;
  maxMs: number;
  p50: number;
  p95: number;
  p99: number;
  p999: number;
  raw: string;
}

// 51203 records sent, 10237.2 records/sec (10.00 MB/sec), 2.31 ms avg latency, 46.00 ms max latency, 2 ms 50th, 4 ms 95th, 12 ms 99th, 31 ms 99.9th.
const PERF_LINE =
  /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th/;

export function parsePerf(stdout: string): PerfResult {
  const lines = stdout.split("\n").filter((l) => PERF_LINE.test(l));
  const last = lines[lines.length - 1];
  if (!last) throw new Error(`no ProducerPerformance summary in:\n${stdout.slice(-3000)}`);
  const m = PERF_LINE.exec(last)!;
  return {
    records: Number(m[1]),
    recordsPerSec: Number(m[2]),
    mbPerSec: Number(m[3]),
    avgMs: Number(m[4]),
    maxMs: Number(m[5]),
    p50: Number(m[6]),
    p95: Number(m[7]),
    p99: Number(m[8]),
    p999: Number(m[9]),
    raw: last.trim(),
  };
}

// 10241 records sent, 2047.8 records/sec (2.00 MB/sec), 12.3 ms avg latency, 101.0 ms max latency.
const WINDOW_LINE = /^(\d+) records sent, ([\d.]+) records\/sec \([\d.]+ MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency\.$/;

/**
 * Summary of the per-second window lines of a run that was stopped at its time limit (the tool
 * prints its percentiles only when all records were sent). The first window (warm-up) is skipped
 * when there are others. Percentiles are unknown: NaN (reported as null by the caller).
 */
export function parsePerfWindows(stdout: string): PerfResult | null {
  const windows = stdout
    .split("\n")
    .map((l) => WINDOW_LINE.exec(l.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ records: Number(m[1]), perSec: Number(m[2]), avg: Number(m[3]), max: Number(m[4]) }));
  const steady = windows.length > 1 ? windows.slice(1) : windows;
  const records = steady.reduce((a, w) => a + w.records, 0);
  if (records === 0) return null;
  const seconds = steady.reduce((a, w) => a + (w.perSec > 0 ? w.records / w.perSec : 0), 0);
  const recordsPerSec = seconds > 0 ? records / seconds : 0;
  return {
    timeBounded: true,
    records,
    recordsPerSec,
    mbPerSec: (recordsPerSec * 1024) / 1048576,
    avgMs: steady.reduce((a, w) => a + w.avg * w.records, 0) / records,
    maxMs: Math.max(...steady.map((w) => w.max)),
    p50: NaN,
    p95: NaN,
    p99: NaN,
    p999: NaN,
    raw: `time-bounded: stopped after its time limit; ${steady.length} one-second windows, ${records} records (percentiles not printed by the tool)`,
  };
}

/**
 * targetMBps <= 0: unthrottled (--throughput -1). `maxSeconds`: stop the tool after that long
 * (a broker far slower than the target, e.g. Kafka flushing every append of 100 partitions, would
 * otherwise take minutes per point for the fixed record count); the result then comes from the
 * one-second window lines (`timeBounded`, no percentiles).
 */
export async function producerPerformance(
  bootstrap: string,
  topic: string,
  targetMBps: number,
  numRecords: number,
  warmupRecords: number,
  maxSeconds = 0,
): Promise<PerfResult> {
  const throughput = targetMBps > 0 ? String(Math.round(targetMBps * 1024)) : "-1";
  const args = [
    "--bootstrap-server", bootstrap,
    "--topic", topic,
    "--num-records", String(numRecords),
    "--warmup-records", String(warmupRecords),
    "--throughput", throughput,
    "--record-size", "1024",
    "--reporting-interval", maxSeconds > 0 ? "1000" : "600000",
    "--command-property", "acks=all", "linger.ms=0", "client.id=vs-kafka-perf",
  ];
  const cmd = javaCmd("org.apache.kafka.tools.ProducerPerformance", args);
  if (maxSeconds <= 0) {
    const r = await run(cmd, { timeoutMs: 900_000 });
    return parsePerf(r.stdout);
  }
  const proc = Bun.spawn(cmd, { cwd: REPO_ROOT, stdout: "pipe", stderr: "pipe" });
  let stopped = false;
  const timer = setTimeout(() => {
    stopped = true;
    proc.kill("SIGKILL");
  }, maxSeconds * 1000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  if (!stopped && code === 0) return parsePerf(stdout);
  if (!stopped) throw new Error(`ProducerPerformance exited with ${code}:\n${stdout.slice(-2000)}\n${stderr.slice(-2000)}`);
  return (
    parsePerfWindows(stdout) ?? {
      timeBounded: true, records: 0, recordsPerSec: 0, mbPerSec: 0, avgMs: NaN, maxMs: NaN, p50: NaN, p95: NaN, p99: NaN, p999: NaN,
      raw: `time-bounded: stopped after ${maxSeconds} s before one full window after the first was reported`,
    }
  );
}

export interface E2eToolResult {
  n: number;
  avgMs: number;
  p50: number;
  p99: number;
  p999: number;
  wallMs: number;
  raw: string;
}

export async function endToEndLatency(bootstrap: string, topic: string, numRecords: number): Promise<E2eToolResult> {
  const r = await run(javaCmd("org.apache.kafka.tools.EndToEndLatency", [bootstrap, topic, String(numRecords), "all", "1024"], "256m"), {
    timeoutMs: 600_000,
  });
  const avg = /Avg latency: ([\d.]+) ms/.exec(r.stdout);
  const pct = /Percentiles: 50th = (\d+), 99th = (\d+), 99\.9th = (\d+)/.exec(r.stdout);
  if (!avg || !pct) throw new Error(`no EndToEndLatency summary in:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  return {
    n: numRecords,
    avgMs: Number(avg[1]),
    p50: Number(pct[1]),
    p99: Number(pct[2]),
    p999: Number(pct[3]),
    wallMs: r.ms,
    raw: `${avg[0]}; ${pct[0]}`,
  };
}
