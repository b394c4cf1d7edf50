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

/** targetMBps <= 0: unthrottled (--throughput -1). */
export async function producerPerformance(
  bootstrap: string,
  topic: string,
  targetMBps: number,
  numRecords: number,
  warmupRecords: number,
): Promise<PerfResult> {
  const throughput = targetMBps > 0 ? String(Math.round(targetMBps * 1024)) : "-1";
  const args = [
    "--bootstrap-server", bootstrap,
    "--topic", topic,
    "--num-records", String(numRecords),
    "--warmup-records", String(warmupRecords),
    "--throughput", throughput,
    "--record-size", "1024",
    "--reporting-interval", "600000",
    "--command-property", "acks=all", "linger.ms=0", "client.id=vs-kafka-perf",
  ];
  const r = await run(javaCmd("org.apache.kafka.tools.ProducerPerformance", args), { timeoutMs: 900_000 });
  return parsePerf(r.stdout);
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
