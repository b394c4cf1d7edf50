/**
 * Quota enforcement figures (`bun bench/quota.bench.ts`): a client-id with a producer_byte_rate
 * quota Q floods Produce at 10 × Q, while a second client-id without a quota produces small
 * batches at a steady pace (the measurement: bench/lib/flood-isolation.ts). Reported: throttle accuracy (achieved flood rate / Q, measured on acknowledged bytes
 * over the measurement interval) and isolation (victim p99 produce latency during the flood / its
 * p99 alone, measured in the same run). test/integration/quota-produce.test.ts runs the same
 * scenario with assertions.
 */
import * as C from "../src/client/codecs.ts";
import { codec, WireClient } from "../src/client/wire-client.ts";
import { writeAlterClientQuotasRequest } from "../src/protocol/generated/alter-client-quotas-request.ts";
import { readAlterClientQuotasResponse } from "../src/protocol/generated/alter-client-quotas-response.ts";
import { startBunka } from "../test/support/broker.ts";
import { measureFloodIsolation, type FloodIsolationResult, type FloodPhases } from "./lib/flood-isolation.ts";

export const AlterClientQuotas = codec(49, writeAlterClientQuotasRequest, readAlterClientQuotasResponse);

export interface QuotaScenarioOptions extends FloodPhases {
  quotaBytesPerSec: number;
}

export async function runQuotaScenario(o: QuotaScenarioOptions): Promise<FloodIsolationResult> {
  // Flush-interval mode, as Kafka runs by default: acks=1 then waits for the write, not for an
  // fsync, so the figures show what the quota and the connection mute do, not fsync contention
  // between the flood's 64 KiB batches and the victim (in durable mode acks=1 shares the fsync).
  const broker = await startBunka({ name: "quota-bench", overrides: { "log.flush.interval.ms": "1000" } });
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
    try {
      return await measureFloodIsolation({ client: victim, topic: "quota-victim" }, { client: flood, topic: "quota-flood" }, o.quotaBytesPerSec, o);
    } finally {
      victim.close();
      flood.close();
    }
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
  steadyIntervalMs: 5,
};

if (import.meta.main) {
  const r = await runQuotaScenario(DEFAULT_SCENARIO);
  const mb = (x: number) => (x / 1048576).toFixed(3);
  console.log(`quota ${mb(r.quotaBytesPerSec)} MiB/s, achieved ${mb(r.achievedBytesPerSec)} MiB/s -> accuracy ${r.accuracy.toFixed(3)} (max throttle_time_ms ${r.maxThrottleTimeMs})`);
  console.log(`victim p50/p99 solo ${r.solo.p50.toFixed(3)}/${r.solo.p99.toFixed(3)} ms (n=${r.solo.n}), during flood ${r.flooded.p50.toFixed(3)}/${r.flooded.p99.toFixed(3)} ms (n=${r.flooded.n}) -> isolation ${r.isolation.toFixed(2)}`);
}
