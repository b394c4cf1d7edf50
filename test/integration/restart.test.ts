// Clean restart: topics created with configs, data spread over several segments, configs altered
// (IncrementalAlterConfigs), partitions added (Kafka's TopicCommand --alter), records deleted
// (DeleteRecords); then a graceful stop (SIGTERM) and a start on the same data dir. Everything must
// survive: topics, partition counts, topic ids, config overrides (DescribeConfigs source
// DYNAMIC_TOPIC_CONFIG), every record at its offset, log start offsets and high watermarks; kcat
// reading from the beginning sees identical content.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { startBunka, type BrokerHandle } from "../support/broker.ts";
import { kcat, topicCommand } from "../support/tools.ts";
import { Prng, WireClient, createTopics, fetchAll, hashBytes, listOffset, metadata, produceRaw } from "../support/load.ts";
import { DeleteRecords, DescribeConfigs } from "../../src/client/codecs.ts";
import { codec } from "../../src/client/wire-client.ts";
import { buildRecordBatch, type ProducedRecord } from "../../src/client/record-batch-builder.ts";
import { writeIncrementalAlterConfigsRequest } from "../../src/protocol/generated/incremental-alter-configs-request.ts";
import { readIncrementalAlterConfigsResponse } from "../../src/protocol/generated/incremental-alter-configs-response.ts";

const IncrementalAlterConfigs = codec(44, writeIncrementalAlterConfigsRequest, readIncrementalAlterConfigsResponse);
const DYNAMIC_TOPIC_CONFIG = 1;
const ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,:;!?";

let broker: BrokerHandle;
let client: WireClient;

const TOPICS: { name: string; partitions: number; configs: Record<string, string> }[] = [
  { name: "rs-a", partitions: 2, configs: { "retention.ms": "86400000", "segment.bytes": "1048576", "max.message.bytes": "500000" } },
  { name: "rs-b", partitions: 1, configs: { "retention.bytes": "100000000", "cleanup.policy": "delete" } },
];

beforeAll(async () => {
  broker = await startBunka({ name: "restart" });
  client = await WireClient.connect(broker.host, broker.port);
}, 60_000);

afterAll(async () => {
  client?.close();
  await broker?.stop();
}, 30_000);

function text(rng: Prng, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += ALPHABET[rng.int(ALPHABET.length)];
  return s;
}

async function produceText(topic: string, partition: number, count: number, rng: Prng, valueSize: number): Promise<void> {
  const enc = new TextEncoder();
  for (let i = 0; i < count; ) {
    const n = Math.min(count - i, 1 + rng.int(60));
    const recs: ProducedRecord[] = [];
    for (let j = 0; j < n; j++) recs.push({ key: enc.encode(`${topic}-${partition}-${i + j}`), value: enc.encode(`${i + j}:${text(rng, rng.int(valueSize))}`) });
    const res = await produceRaw(client, topic, partition, buildRecordBatch(recs), -1);
    if (res.errorCode !== 0) throw new Error(`produce ${topic}-${partition}: error ${res.errorCode} ${res.errorMessage}`);
    i += n;
  }
}

interface PartitionSnapshot {
  logStartOffset: number;
  earliest: number;
  latest: number;
  highWatermark: number;
  records: string[]; // "offset key-hash value-hash"
}

interface Snapshot {
  topicIds: Record<string, string>;
  partitionCounts: Record<string, number>;
  overrides: Record<string, Record<string, string>>;
  partitions: Record<string, PartitionSnapshot>;
  kcat: Record<string, string>;
}

async function snapshot(c: WireClient): Promise<Snapshot> {
  const md: any = await metadata(c, TOPICS.map((t) => t.name));
  const snap: Snapshot = { topicIds: {}, partitionCounts: {}, overrides: {}, partitions: {}, kcat: {} };
  for (const t of md.topics) {
    expect(t.errorCode).toBe(0);
    snap.topicIds[t.name] = t.topicId;
    snap.partitionCounts[t.name] = t.partitions.length;
  }
  const dc: any = await c.send(DescribeConfigs, 4, {
    resources: TOPICS.map((t) => ({ resourceType: 2, resourceName: t.name, configurationKeys: null })),
    includeSynonyms: false,
    includeDocumentation: false,
  });
  for (const r of dc.results) {
    expect(r.errorCode).toBe(0);
    const o: Record<string, string> = {};
    for (const cfg of r.configs) if (cfg.configSource === DYNAMIC_TOPIC_CONFIG) o[cfg.name] = cfg.value;
    snap.overrides[r.resourceName] = o;
  }
  for (const t of TOPICS) {
    for (let p = 0; p < snap.partitionCounts[t.name]!; p++) {
      const earliest = await listOffset(c, t.name, p, -2);
      const latest = await listOffset(c, t.name, p, -1);
      const got = await fetchAll(c, t.name, p, earliest.offset);
      snap.partitions[`${t.name}-${p}`] = {
        logStartOffset: got.logStartOffset,
        earliest: earliest.offset,
        latest: latest.offset,
        highWatermark: got.highWatermark,
        records: got.records.map((r) => `${r.offset} ${hashBytes(r.key)} ${hashBytes(r.value)}`),
      };
      const out = await kcat(broker.bootstrap, ["-C", "-t", t.name, "-p", String(p), "-o", "beginning", "-e", "-f", "%o|%k|%s\n"], { timeoutMs: 60_000 });
      snap.kcat[`${t.name}-${p}`] = out.stdout;
    }
  }
  return snap;
}

let before: Snapshot;

test("set up: topics with configs, several segments, altered configs, added partitions, deleted records", async () => {
  const created = await createTopics(client, TOPICS);
  for (const c of created) expect(`${c.name}:${c.errorCode}:${c.errorMessage}`).toBe(`${c.name}:0:null`);

  const rng = new Prng(4711);
  await Promise.all([produceText("rs-a", 0, 4000, rng, 1200), produceText("rs-a", 1, 2500, new Prng(2), 1200), produceText("rs-b", 0, 500, new Prng(3), 300)]);

  // Several segments exist for rs-a-0 (segment.bytes 1 MiB, ~2.4 MB written).
  const dir = readdirSync(broker.dataDir).find((d) => d === "rs-a-0");
  expect(dir).toBe("rs-a-0");
  const segments = readdirSync(join(broker.dataDir, "rs-a-0")).filter((f) => f.endsWith(".log"));
  expect(segments.length).toBeGreaterThanOrEqual(2);

  const alter: any = await client.send(IncrementalAlterConfigs, 1, {
    resources: [
      {
        resourceType: 2,
        resourceName: "rs-a",
        configs: [
          { name: "retention.ms", configOperation: 0, value: "172800000" },
          { name: "max.message.bytes", configOperation: 1, value: null },
          { name: "segment.ms", configOperation: 0, value: "3600000" },
        ],
      },
      { resourceType: 2, resourceName: "rs-b", configs: [{ name: "retention.bytes", configOperation: 0, value: "200000000" }] },
    ],
    validateOnly: false,
  });
  for (const r of alter.responses) expect(`${r.resourceName}:${r.errorCode}:${r.errorMessage}`).toBe(`${r.resourceName}:0:null`);

  await topicCommand(broker.bootstrap, ["--alter", "--topic", "rs-b", "--partitions", "3"], { timeoutMs: 60_000 });
  await produceText("rs-b", 1, 300, new Prng(5), 300);
  await produceText("rs-b", 2, 200, new Prng(6), 300);

  const del: any = await client.send(DeleteRecords, 2, { topics: [{ name: "rs-a", partitions: [{ partitionIndex: 0, offset: 1234 }] }], timeoutMs: 10_000 });
  expect(del.topics[0].partitions[0].errorCode).toBe(0);
  expect(del.topics[0].partitions[0].lowWatermark).toBe(1234);

  before = await snapshot(client);
  // The state we expect to carry over, asserted explicitly before the restart.
  expect(before.partitionCounts).toEqual({ "rs-a": 2, "rs-b": 3 });
  expect(before.overrides["rs-a"]).toEqual({ "retention.ms": "172800000", "segment.bytes": "1048576", "segment.ms": "3600000" });
  expect(before.overrides["rs-b"]).toEqual({ "retention.bytes": "200000000", "cleanup.policy": "delete" });
  expect(before.partitions["rs-a-0"]!.logStartOffset).toBe(1234);
  expect(before.partitions["rs-a-0"]!.earliest).toBe(1234);
  expect(before.partitions["rs-a-0"]!.records.length).toBe(4000 - 1234);
  expect(before.partitions["rs-a-0"]!.highWatermark).toBe(4000);
  expect(before.partitions["rs-a-1"]!.highWatermark).toBe(2500);
  expect(before.partitions["rs-b-2"]!.highWatermark).toBe(200);
  expect(before.kcat["rs-a-0"]!.split("\n")[0]).toStartWith("1234|rs-a-0-1234|1234:");
  expect(before.kcat["rs-b-1"]!.trim().split("\n").length).toBe(300);
}, 90_000);

test("graceful stop (SIGTERM) and restart keep topics, ids, configs, records, offsets", async () => {
  expect(before).toBeDefined();
  client.close();
  const old = broker.proc!;
  const logBefore = readFileSync(broker.logFile, "utf8").length;
  await broker.restart();
  expect(old.exitCode).toBe(0);
  expect(old.signalCode).toBeNull(); // exited by itself after SIGTERM, not killed by the 10 s fallback
  const stopLog = readFileSync(broker.logFile, "utf8").slice(logBefore);
  expect(stopLog).toContain("SIGTERM: shutting down");
  expect(stopLog).toContain("stopped cleanly");
  expect(stopLog.indexOf("stopped cleanly")).toBeLessThan(stopLog.lastIndexOf("bunka listening on"));
  // after a clean shutdown every segment is resumed from its indexes, none walked
  // (rs-a: 2 partitions with several 1 MiB segments each, rs-b: 3)
  const opened = /opened (\d+) partition log\(s\) in \d+ ms after a clean shutdown: (\d+) segment\(s\) resumed from their indexes; walked (\d+) batches/.exec(stopLog);
  expect(opened).not.toBeNull();
  expect(Number(opened![1])).toBe(5);
  expect(Number(opened![2])).toBeGreaterThan(5);
  expect(Number(opened![3])).toBe(0);
  expect(readdirSync(broker.dataDir)).not.toContain(".bunka-clean-shutdown"); // gone before serving

  client = await WireClient.connect(broker.host, broker.port);
  const after = await snapshot(client);
  expect(after.topicIds).toEqual(before.topicIds);
  expect(after.partitionCounts).toEqual(before.partitionCounts);
  expect(after.overrides).toEqual(before.overrides);
  for (const key of Object.keys(before.partitions)) {
    const b = before.partitions[key]!;
    const a = after.partitions[key]!;
    expect(`${key} lso=${a.logStartOffset} earliest=${a.earliest} latest=${a.latest} hw=${a.highWatermark} n=${a.records.length}`).toBe(
      `${key} lso=${b.logStartOffset} earliest=${b.earliest} latest=${b.latest} hw=${b.highWatermark} n=${b.records.length}`,
    );
    expect(a.records).toEqual(b.records);
    expect(after.kcat[key]).toBe(before.kcat[key]!);
  }
  // And the restarted broker keeps appending where it left off.
  const res = await produceRaw(client, "rs-a", 0, buildRecordBatch([{ value: new TextEncoder().encode("after restart") }]), -1);
  expect(`${res.errorCode}@${res.baseOffset}`).toBe("0@4000");
}, 90_000);

test("after a clean restart, a crash is recovered by walking the logs past their recovery points (the marker was removed)", async () => {
  const res = await produceRaw(client, "rs-b", 1, buildRecordBatch([{ value: new TextEncoder().encode("before the crash") }]), -1);
  expect(res.errorCode).toBe(0);
  client.close();
  const logBefore = readFileSync(broker.logFile, "utf8").length;
  await broker.kill9();
  await broker.restart();
  const startLog = readFileSync(broker.logFile, "utf8").slice(logBefore);
  const opened = /opened (\d+) partition log\(s\) in \d+ ms without a clean-shutdown marker: (\d+) segment\(s\) below the recovery points resumed from their indexes; walked (\d+) batches/.exec(startLog);
  expect(opened).not.toBeNull();
  // rs-a's sealed 1 MiB segments were fsynced before the crash: resumed; the active ones walked
  expect(Number(opened![2])).toBeGreaterThan(0);
  expect(Number(opened![3])).toBeGreaterThan(0);
  client = await WireClient.connect(broker.host, broker.port);
  const after = await snapshot(client);
  for (const key of Object.keys(before.partitions)) {
    const extra = key === "rs-b-1" ? 1 : 0;
    expect(`${key} hw=${after.partitions[key]!.highWatermark}`).toBe(`${key} hw=${before.partitions[key]!.highWatermark + extra + (key === "rs-a-0" ? 1 : 0)}`);
  }
}, 90_000);
