/**
 * Quota enforcement figures (`bun bench/quota.bench.ts`): a client-id with a producer_byte_rate
 * quota Q floods Produce at 10 × Q (paced, ignoring throttle_time_ms: the broker's connection mute
 * is what holds it back), while a second client-id without a quota produces small batches at a
 * steady pace. Reported: throttle accuracy (achieved flood rate / Q, measured on acknowledged bytes
 * over the measurement interval) and isolation (victim p99 produce latency during the flood / its
 * p99 alone, measured in the same run). test/integration/quota-produce.test.ts runs the same
 * scenario with assertions.
 */
import * as C from "../src/client/codecs.ts";
import { codec, WireClient } from "../src/client/wire-client.ts";
import { buildRecordBatch } from "../src/client/record-batch-builder.ts";
import { writeAlterClientQuotasRequest } from "../src/protocol/generated/alter-client-quotas-request.ts";
import { readAlterClientQuotasResponse } from "../src/protocol/generated/alter-client-quotas-response.ts";
import { startBunka } from "../test/support/broker.ts";
import { summarize, type LatencySummary } from "./lib/stats.ts";

export const AlterClientQuotas = codec(49, writeAlterClientQuotasRequest, readAlterClientQuotasResponse);

export interface QuotaScenarioOptions {
  quotaBytesPerSec: number;
  floodBatchBytes: number;
  /** Warm-up after the flood starts (the first window's burst), not measured. */
  warmupMs: number;
  measureMs: number;
  soloMs: number;
  victimIntervalMs: number;
}

export interface QuotaScenarioResult {
  quotaBytesPerSec: number;
  achievedBytesPerSec: number;
  accuracy: number;
  maxThrottleTimeMs: number;
  solo: LatencySummary;
  flooded: LatencySummary;
  isolation: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function produce(c: WireClient, topic: string, batch: Uint8Array): Promise<{ ms: number; throttle: number }> {
  const t0 = performance.now();
  const res = await c.send(C.Produce, 9, { acks: 1, timeoutMs: 30_000, topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }] });
  const code = res.responses[0]!.partitionResponses[0]!.errorCode;
  if (code !== 0) throw new Error(`produce to ${topic} failed with error ${code}`);
  return { ms: performance.now() - t0, throttle: res.throttleTimeMs ?? 0 };
}

async function victimLoop(c: WireClient, until: () => boolean, intervalMs: number, out: number[]): Promise<void> {
  const batch = buildRecordBatch([{ key: null, value: new Uint8Array(512).fill(7) }]);
  let next = performance.now();
  while (!until()) {
    out.push((await produce(c, "quota-victim", batch)).ms);
    next += intervalMs;
    const wait = next - performance.now();
    if (wait > 0) await sleep(wait);
  }
}

export async function runQuotaScenario(o: QuotaScenarioOptions): Promise<QuotaScenarioResult> {
  const broker = await startBunka({ name: "quota-bench" });
  try {
    const admin = await WireClient.connect(broker.host, broker.port, "admin");
    const created = await admin.send(C.CreateTopics, 7, {
      topics: ["quota-flood", "quota-victim"].map((name) => ({ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] })),
      timeoutMs: 5000,
      validateOnly: false,
    });
    for (const t of created.topics) if (t.errorCode !== 0) throw new Error(`create ${t.name}: ${t.errorCode}`);
    const alter = await admin.send(AlterClientQuotas, 1, {
      entries: [{ entity: [{ entityType: "client-id", entityName: "flood" }], ops: [{ key: "producer_byte_rate", value: o.quotaBytesPerSec, remove: false }] }],
      validateOnly: false,
    });
    if (alter.entries[0]!.errorCode !== 0) throw new Error(`AlterClientQuotas: ${alter.entries[0]!.errorMessage}`);
    admin.close();

    const victim = await WireClient.connect(broker.host, broker.port, "victim");
    const flood = await WireClient.connect(broker.host, broker.port, "flood");
    const soloSamples: number[] = [];
    const soloEnd = performance.now() + o.soloMs;
    await victimLoop(victim, () => performance.now() >= soloEnd, o.victimIntervalMs, soloSamples);

    // Flood at 10 × quota, paced, sequential requests; acknowledged bytes are counted by time.
    const floodBatch = buildRecordBatch([{ key: null, value: new Uint8Array(o.floodBatchBytes - 80).fill(1) }]);
    const offeredInterval = (floodBatch.length * 1000) / (10 * o.quotaBytesPerSec);
    const floodStart = performance.now();
    const measureStart = floodStart + o.warmupMs;
    const measureEnd = measureStart + o.measureMs;
    let acked = 0;
    let maxThrottle = 0;
    let stop = false;
    const floodLoop = (async () => {
      let next = performance.now();
      while (!stop) {
        const r = await produce(flood, "quota-flood", floodBatch);
        const now = performance.now();
        if (now >= measureStart && now < measureEnd) acked += floodBatch.length;
        maxThrottle = Math.max(maxThrottle, r.throttle);
        next += offeredInterval;
        if (next < now) next = now;
        const wait = next - now;
        if (wait > 0) await sleep(wait);
      }
    })();
    await sleep(o.warmupMs);
    const floodedSamples: number[] = [];
    await victimLoop(victim, () => performance.now() >= measureEnd, o.victimIntervalMs, floodedSamples);
    stop = true;
    flood.close();
    await floodLoop.catch(() => {});
    victim.close();
    const achieved = (acked * 1000) / o.measureMs;
    const solo = summarize(soloSamples, o.soloMs);
    const flooded = summarize(floodedSamples, o.measureMs);
    return {
      quotaBytesPerSec: o.quotaBytesPerSec,
      achievedBytesPerSec: achieved,
      accuracy: achieved / o.quotaBytesPerSec,
      maxThrottleTimeMs: maxThrottle,
      solo,
      flooded,
      isolation: flooded.p99 / solo.p99,
    };
  } finally {
    await broker.stop();
  }
}

export const DEFAULT_SCENARIO: QuotaScenarioOptions = {
  quotaBytesPerSec: 1024 * 1024,
  floodBatchBytes: 64 * 1024,
  warmupMs: 2000,
  measureMs: 10_000,
  soloMs: 3000,
  victimIntervalMs: 5,
};

if (import.meta.main) {
  const r = await runQuotaScenario(DEFAULT_SCENARIO);
  const mb = (x: number) => (x / 1048576).toFixed(3);
  console.log(`quota ${mb(r.quotaBytesPerSec)} MiB/s, achieved ${mb(r.achievedBytesPerSec)} MiB/s -> accuracy ${r.accuracy.toFixed(3)} (max throttle_time_ms ${r.maxThrottleTimeMs})`);
  console.log(`victim p50/p99 solo ${r.solo.p50.toFixed(3)}/${r.solo.p99.toFixed(3)} ms (n=${r.solo.n}), during flood ${r.flooded.p50.toFixed(3)}/${r.flooded.p99.toFixed(3)} ms (n=${r.flooded.n}) -> isolation ${r.isolation.toFixed(2)}`);
}
