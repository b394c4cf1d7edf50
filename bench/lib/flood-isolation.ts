/**
 * The measurement behind the quota and tenant benchmarks (and their integration tests): a
 * "steady" client produces small batches at a fixed pace, alone and then while a "flood" client
 * produces at 10 × `quotaBytesPerSec`, paced and ignoring throttle_time_ms, so only the broker's
 * connection mute holds it back. Reports the flood's acknowledged rate over the measurement interval
 * against the quota (accuracy) and steady's p99 during the flood against its p99 alone (isolation).
 * The caller owns both clients (connected, topics existing); the flood client is closed at the end
 * (that ends a request held by the broker's mute), closing it again is harmless.
 */
import * as C from "../../src/client/codecs.ts";
import type { WireClient } from "../../src/client/wire-client.ts";
import { buildRecordBatch } from "../../src/client/record-batch-builder.ts";
import { summarize, type LatencySummary } from "./stats.ts";

export interface FloodPhases {
  floodBatchBytes: number;
  /** Warm-up after the flood starts (the first window's burst), not measured. */
  warmupMs: number;
  measureMs: number;
  soloMs: number;
  steadyIntervalMs: number;
}

export interface FloodIsolationResult {
  quotaBytesPerSec: number;
  achievedBytesPerSec: number;
  accuracy: number;
  maxThrottleTimeMs: number;
  solo: LatencySummary;
  flooded: LatencySummary;
  isolation: number;
}

export interface Producer {
  client: WireClient;
  topic: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One acks=1 produce of `batch` to partition 0; its round trip and throttle_time_ms. */
async function produce(p: Producer, batch: Uint8Array): Promise<{ ms: number; throttle: number }> {
  const t0 = performance.now();
  const res = await p.client.send(C.Produce, 9, { acks: 1, timeoutMs: 30_000, topicData: [{ name: p.topic, partitionData: [{ index: 0, records: batch }] }] });
  const r = res.responses[0]!;
  const code = r.partitionResponses[0]!.errorCode;
  if (r.name !== p.topic || code !== 0) throw new Error(`produce to ${p.topic} failed: ${r.name} error ${code}`);
  return { ms: performance.now() - t0, throttle: res.throttleTimeMs ?? 0 };
}

async function steadyLoop(p: Producer, until: () => boolean, intervalMs: number, out: number[]): Promise<void> {
  const batch = buildRecordBatch([{ key: null, value: new Uint8Array(512).fill(7) }]);
  let next = performance.now();
  while (!until()) {
    out.push((await produce(p, batch)).ms);
    next += intervalMs;
    const wait = next - performance.now();
    if (wait > 0) await sleep(wait);
  }
}

export async function measureFloodIsolation(steady: Producer, flood: Producer, quotaBytesPerSec: number, o: FloodPhases): Promise<FloodIsolationResult> {
  const soloSamples: number[] = [];
  const soloEnd = performance.now() + o.soloMs;
  await steadyLoop(steady, () => performance.now() >= soloEnd, o.steadyIntervalMs, soloSamples);

  const floodBatch = buildRecordBatch([{ key: null, value: new Uint8Array(o.floodBatchBytes - 80).fill(1) }]);
  const offeredInterval = (floodBatch.length * 1000) / (10 * quotaBytesPerSec);
  const measureStart = performance.now() + o.warmupMs;
  const measureEnd = measureStart + o.measureMs;
  let acked = 0;
  let maxThrottle = 0;
  let stop = false;
  const floodLoop = (async () => {
    let next = performance.now();
    while (!stop) {
      const r = await produce(flood, floodBatch);
      const now = performance.now();
      if (now >= measureStart && now < measureEnd) acked += floodBatch.length;
      maxThrottle = Math.max(maxThrottle, r.throttle);
      next += offeredInterval;
      if (next < now) next = now;
      if (next > now) await sleep(next - now);
    }
  })();
  await sleep(o.warmupMs);
  const floodedSamples: number[] = [];
  await steadyLoop(steady, () => performance.now() >= measureEnd, o.steadyIntervalMs, floodedSamples);
  stop = true;
  flood.client.close(); // ends a flood request held by the broker's mute
  await floodLoop.catch(() => {});
  const achieved = (acked * 1000) / o.measureMs;
  const solo = summarize(soloSamples, o.soloMs);
  const flooded = summarize(floodedSamples, o.measureMs);
  return { quotaBytesPerSec, achievedBytesPerSec: achieved, accuracy: achieved / quotaBytesPerSec, maxThrottleTimeMs: maxThrottle, solo, flooded, isolation: flooded.p99 / solo.p99 };
}
