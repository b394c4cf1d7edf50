// Tiering against a real MinIO server (built by scripts/setup-test-deps.sh, run by scripts/minio.sh):
// real clients (kcat) read tiered data byte-identical; MinIO outages, broker kill -9, retention and
// DeleteRecords keep the bucket and the manifest consistent.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InitProducerId, ListOffsets, Produce } from "../../src/client/codecs.ts";
import { WireClient } from "../../src/client/wire-client.ts";
import { decodeManifest, MANIFEST_FILE, type TierManifest } from "../../src/tiering/manifest.ts";
import { S3ObjectStore } from "../../src/tiering/s3-object-store.ts";
import { REPO_ROOT, startBunka, type BrokerHandle } from "../support/broker.ts";
import { CACHE_DIR, createTopic, kcat, run } from "../support/tools.ts";
import { buildBatch, type TestRecord } from "../unit/log/batch-builder.ts";

const MINIO_BIN = join(CACHE_DIR, "bin", "minio");
const ACCESS = "bunka";
const SECRET = "bunka-secret";
const MiB = 1024 * 1024;

let minioPort = 0;
let minioDir = "";
const scratch = mkdtempSync(join(tmpdir(), "bunka-tiering-it-"));

async function freePort(): Promise<number> {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

function minio(...args: string[]) {
  return run(["bash", join(REPO_ROOT, "scripts", "minio.sh"), ...args], {
    env: { MINIO_ROOT_USER: ACCESS, MINIO_ROOT_PASSWORD: SECRET },
    timeoutMs: 60_000,
  });
}

const startMinio = () => minio("start", String(minioPort), minioDir);
const stopMinio = () => minio("stop", minioDir);

function storeFor(bucket: string): S3ObjectStore {
  return new S3ObjectStore({ endpoint: `http://127.0.0.1:${minioPort}`, bucket, accessKey: ACCESS, secretKey: SECRET, region: "us-east-1" });
}

async function bucketLogs(bucket: string, topic: string): Promise<string[]> {
  const all = await storeFor(bucket).list("").catch((e: { code?: string }) => {
    if (e.code === "NoSuchBucket") return [];
    throw e;
  });
  return all.map((o) => o.key).filter((k) => k.includes(`/${topic}-`) && k.endsWith(".log"));
}

function localLogs(b: BrokerHandle, topic: string): string[] {
  const dir = join(b.dataDir, `${topic}-0`);
  return existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith(".log")) : [];
}

function manifestOf(b: BrokerHandle, topic: string): TierManifest | null {
  const path = join(b.dataDir, `${topic}-0`, MANIFEST_FILE);
  return existsSync(path) ? decodeManifest(readFileSync(path)) : null;
}

async function startTieredBroker(bucket: string, dataDir?: string): Promise<BrokerHandle> {
  const opts: Parameters<typeof startBunka>[0] = {
    name: `tiering-${bucket}`,
    overrides: {
      "bunka.tier.s3.endpoint": `http://127.0.0.1:${minioPort}`,
      "bunka.tier.s3.bucket": bucket,
      "remote.log.manager.task.interval.ms": "200",
      "bunka.tier.op.timeout.ms": "5000",
      "log.retention.check.interval.ms": "1000",
      // A small memory tier, so that reads of old offsets really go to the bucket.
      "bunka.hot.cache.bytes": String(MiB),
    },
    env: { BUNKA_TIER_S3_ACCESS_KEY: ACCESS, BUNKA_TIER_S3_SECRET_KEY: SECRET },
  };
  if (dataDir !== undefined) opts.dataDir = dataDir;
  return startBunka(opts);
}

const TIERED = (extra: Record<string, string> = {}) => ({
  "remote.storage.enable": "true",
  "segment.bytes": String(MiB),
  "local.retention.bytes": "0",
  "retention.ms": "-1",
  "file.delete.delay.ms": "0",
  ...extra,
});

/** `count` lines of `size` bytes (newline included), each starting with its sequence number. */
function payloadFile(name: string, count: number, size: number, from = 0): { path: string; bytes: Buffer } {
  const line = (i: number) => `${String(i).padStart(10, "0")}-`.padEnd(size - 1, String.fromCharCode(97 + (i % 26))) + "\n";
  const bytes = Buffer.from(Array.from({ length: count }, (_, i) => line(from + i)).join(""));
  const path = join(scratch, name);
  writeFileSync(path, bytes);
  return { path, bytes };
}

async function produce(bootstrap: string, topic: string, file: string): Promise<void> {
  await kcat(bootstrap, ["-P", "-t", topic, "-p", "0", "-l", file, "-X", "linger.ms=20", "-X", "queue.buffering.max.kbytes=65536"], { timeoutMs: 120_000 });
}

async function consumeAll(bootstrap: string, topic: string, offset = "beginning"): Promise<Buffer> {
  const r = await kcat(bootstrap, ["-C", "-t", topic, "-p", "0", "-o", offset, "-e", "-q", "-f", "%s\\n"], { timeoutMs: 120_000 });
  return Buffer.from(r.stdoutBytes);
}

async function listOffset(b: BrokerHandle, topic: string, timestamp: number): Promise<number> {
  const c = await WireClient.connect(b.host, b.port);
  try {
    const r = await c.send(ListOffsets, 9, {
      replicaId: -1, isolationLevel: 0, timeoutMs: 0,
      topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 }] }],
    });
    const p = r.topics[0]!.partitions[0]!;
    if (p.errorCode !== 0) throw new Error(`ListOffsets ${timestamp}: error ${p.errorCode}`);
    return p.offset ?? -1;
  } finally {
    c.close();
  }
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 90_000): Promise<number> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(100);
  }
  return Date.now() - start;
}

/** Segment objects in the bucket that the manifest does not name (deletes run just after a manifest commit). */
async function orphansOf(b: BrokerHandle, bucket: string, topic: string): Promise<string[]> {
  const manifest = manifestOf(b, topic);
  const named = new Set((manifest?.segments ?? []).map((s) => String(s.baseOffset).padStart(20, "0")));
  const keys = (await storeFor(bucket).list("")).map((o) => o.key).filter((k) => k.includes(`/${topic}-`) && !k.endsWith("/manifest"));
  return keys.filter((k) => !named.has(k.slice(k.lastIndexOf("/") + 1, k.lastIndexOf("."))));
}

/** Every object the manifest names (with the producer snapshots) exists, and every object in the bucket is named (no orphans). */
async function checkManifestAgainstBucket(b: BrokerHandle, bucket: string, topic: string): Promise<{ named: number; inBucket: number }> {
  const manifest = manifestOf(b, topic);
  expect(manifest).not.toBeNull();
  const keys = new Set((await storeFor(bucket).list("")).map((o) => o.key).filter((k) => k.includes(`/${topic}-`)));
  const named = new Set<string>();
  for (const s of manifest!.segments) {
    for (const kind of s.producerSnapshot === true ? ["log", "index", "timeindex", "snapshot"] : ["log", "index", "timeindex"]) {
      const suffix = `/${topic}-${manifest!.topicId}/0/${String(s.baseOffset).padStart(20, "0")}.${kind}`;
      const key = [...keys].find((k) => k.endsWith(suffix));
      expect(key).toBeDefined();
      named.add(key!);
    }
  }
  const orphans = [...keys].filter((k) => !named.has(k) && !k.endsWith("/manifest"));
  expect(orphans).toEqual([]);
  return { named: named.size, inBucket: keys.size };
}

beforeAll(async () => {
  if (!existsSync(MINIO_BIN)) throw new Error(`${MINIO_BIN} missing: run bash scripts/setup-test-deps.sh (bun run test does it)`);
  minioPort = await freePort();
  minioDir = join(scratch, "minio-data");
  await startMinio();
});

afterAll(async () => {
  await stopMinio().catch(() => {});
  rmSync(scratch, { recursive: true, force: true });
});

describe("tiering to MinIO", () => {
  test("100 MB with 1 MiB segments and no local retention: kcat reads it all byte-identical from the bucket", async () => {
    const broker = await startTieredBroker("big");
    try {
      const topic = "tiered-big";
      await createTopic(broker.bootstrap, topic, 1, TIERED());
      const { path, bytes } = payloadFile("big.txt", 100_000, 1000);
      let t = Date.now();
      await produce(broker.bootstrap, topic, path);
      const produceMs = Date.now() - t;
      const tierMs = await waitFor("most segments tiered", async () => localLogs(broker, topic).length <= 1 && (await bucketLogs("big", topic)).length >= 90);
      const local = localLogs(broker, topic).length;
      const remote = (await bucketLogs("big", topic)).length;
      expect(await listOffset(broker, topic, -2)).toBe(0);
      const earliestLocal = await listOffset(broker, topic, -4);
      expect(earliestLocal).toBeGreaterThan(90_000);
      expect(await listOffset(broker, topic, -1)).toBe(100_000);
      t = Date.now();
      const consumed = await consumeAll(broker.bootstrap, topic);
      const consumeMs = Date.now() - t;
      expect(consumed.length).toBe(bytes.length);
      expect(consumed.equals(bytes)).toBe(true);
      await checkManifestAgainstBucket(broker, "big", topic);
      await broker.stop();
      const stats = /tiering stats: .* (\d+) remote read\(s\), chunk cache (\d+) hit\(s\) \/ (\d+) miss\(es\) \/ (\d+) read-ahead/.exec(readFileSync(broker.logFile, "utf8"));
      expect(stats).not.toBeNull();
      expect(Number(stats![1])).toBeGreaterThan(50); // kcat's fetches of tiered offsets went remote
      expect(Number(stats![3]) + Number(stats![4])).toBeGreaterThanOrEqual(95); // at least one ranged GET per MiB
      console.log(`tiering-minio: 100 MB produced in ${produceMs} ms, tiered ${tierMs} ms later (local ${local} segment file(s), bucket ${remote}); kcat read it back in ${consumeMs} ms; earliest-local ${earliestLocal}`);
    } finally {
      await broker.stop();
    }
  }, 180_000);

  test("MinIO stopped during tiering: producers go on, local data is kept and the lag is logged; after restart tiering catches up, nothing lost", async () => {
    const broker = await startTieredBroker("outage");
    try {
      const topic = "tiered-outage";
      await createTopic(broker.bootstrap, topic, 1, TIERED());
      const a = payloadFile("outage-a.txt", 15_000, 1000);
      const b = payloadFile("outage-b.txt", 15_000, 1000, 15_000);
      await produce(broker.bootstrap, topic, a.path);
      await stopMinio();
      await produce(broker.bootstrap, topic, b.path);
      await waitFor("the lag to be logged", () => /tiering lag: \d+ segment\(s\).*store failing/.test(readFileSync(broker.logFile, "utf8")), 30_000);
      await Bun.sleep(1500); // retention passes run meanwhile: nothing un-uploaded may go
      const keptLocal = localLogs(broker, topic).length;
      const manifest = manifestOf(broker, topic);
      const remoteEnd = manifest?.segments[manifest.segments.length - 1]?.endOffset ?? 0;
      expect(await listOffset(broker, topic, -4)).toBeLessThanOrEqual(remoteEnd);
      expect(keptLocal).toBeGreaterThan(10);
      await startMinio();
      const catchUpMs = await waitFor("tiering to catch up", () => localLogs(broker, topic).length <= 1);
      // the broker's stderr reaches the log file through the harness's pipe, a little after the fact
      await waitFor("the catch-up to be logged", () => readFileSync(broker.logFile, "utf8").includes("tiering lag: 0 (caught up)"), 10_000);
      const consumed = await consumeAll(broker.bootstrap, topic);
      expect(consumed.equals(Buffer.concat([a.bytes, b.bytes]))).toBe(true);
      await checkManifestAgainstBucket(broker, "outage", topic);
      console.log(`tiering-minio: outage kept ${keptLocal} local segment file(s); caught up ${catchUpMs} ms after MinIO came back`);
    } finally {
      await startMinio().catch(() => {});
      await broker.stop();
    }
  }, 150_000);

  test("broker kill -9 during uploads: after restart the manifest names only existing objects, orphans are gone, all data readable", async () => {
    const dataDir = join(scratch, "kill9-data");
    let broker = await startTieredBroker("kill9", dataDir);
    try {
      const topic = "tiered-kill9";
      await createTopic(broker.bootstrap, topic, 1, TIERED());
      const { path, bytes } = payloadFile("kill9.txt", 40_000, 1000);
      await produce(broker.bootstrap, topic, path);
      await waitFor("uploads under way", async () => (await bucketLogs("kill9", topic)).length >= 3, 30_000);
      await broker.kill9();
      const remoteAtKill = (await bucketLogs("kill9", topic)).length;
      // Whatever the kill interrupted, also leave what an interrupted upload leaves for sure: the
      // next segment's .log without its indexes or manifest entry, and a stray object.
      const someKey = (await bucketLogs("kill9", topic))[0]!;
      const prefix = someKey.slice(0, someKey.lastIndexOf("/") + 1);
      const m = manifestOf(broker, topic);
      const nextBase = m?.segments[m.segments.length - 1]?.endOffset ?? 0;
      await storeFor("kill9").put(`${prefix}${String(nextBase).padStart(20, "0")}.log`, new Uint8Array(1000));
      await storeFor("kill9").put(`${prefix}${String(99_999_999).padStart(20, "0")}.index`, new Uint8Array(8));
      broker = await broker.restart();
      await waitFor("tiering to finish after restart", () => localLogs(broker, topic).length <= 1);
      const { named } = await checkManifestAgainstBucket(broker, "kill9", topic);
      expect(readFileSync(broker.logFile, "utf8")).toMatch(/removed \d+ orphan object/);
      expect(named).toBeGreaterThan(30 * 3);
      expect(await listOffset(broker, topic, -2)).toBe(0);
      const consumed = await consumeAll(broker.bootstrap, topic);
      expect(consumed.equals(bytes)).toBe(true);
      console.log(`tiering-minio: kill -9 with ${remoteAtKill} segment(s) in the bucket; after restart ${manifestOf(broker, topic)!.segments.length} segment(s) (${named} objects) named, no orphans`);
    } finally {
      await broker.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 150_000);

  test("retention.bytes over the whole log deletes remote objects; DeleteRecords moves the log start into the remote part", async () => {
    const broker = await startTieredBroker("retention");
    try {
      const topic = "tiered-retention";
      await createTopic(broker.bootstrap, topic, 1, TIERED({ "retention.bytes": String(8 * MiB) }));
      const { path } = payloadFile("retention.txt", 25_000, 1000);
      await produce(broker.bootstrap, topic, path);
      await waitFor("remote retention", async () => {
        const remote = (await bucketLogs("retention", topic)).length;
        return localLogs(broker, topic).length <= 1 && remote > 0 && remote <= 9;
      });
      await waitFor("remote deletes to finish", async () => (await orphansOf(broker, "retention", topic)).length === 0, 30_000);
      const earliest = await listOffset(broker, topic, -2);
      expect(earliest).toBeGreaterThan(10_000);
      const manifest = manifestOf(broker, topic)!;
      expect(manifest.segments[0]!.baseOffset).toBe(earliest);
      await checkManifestAgainstBucket(broker, "retention", topic);

      const target = manifest.segments[3]!.baseOffset + 17;
      const r = await run(
        ["bash", "-c", `printf '{"partitions":[{"topic":"${topic}","partition":0,"offset":${target}}],"version":1}' > ${scratch}/dr.json && java -cp '${CACHE_DIR}/kafka/libs/*' org.apache.kafka.tools.DeleteRecordsCommand --bootstrap-server ${broker.bootstrap} --offset-json-file ${scratch}/dr.json`],
        { timeoutMs: 60_000 },
      );
      expect(r.stdout).toContain("low_watermark: " + target);
      expect(await listOffset(broker, topic, -2)).toBe(target);
      await waitFor("remote segments below the new start to go", () => (manifestOf(broker, topic)?.segments[0]?.baseOffset ?? -1) === manifest.segments[3]!.baseOffset, 30_000);
      await waitFor("remote deletes to finish", async () => (await orphansOf(broker, "retention", topic)).length === 0, 30_000);
      await checkManifestAgainstBucket(broker, "retention", topic);
      const first = (await consumeAll(broker.bootstrap, topic)).subarray(0, 10).toString();
      expect(Number(first)).toBe(target);
    } finally {
      await broker.stop();
    }
  }, 150_000);
  test("idempotent producer whose batches are remote-only: after a restart (local snapshot, then remote snapshot) a retry is deduplicated and the next sequence accepted", async () => {
    const dataDir = join(scratch, "idem-data");
    let broker = await startTieredBroker("idem", dataDir);
    const topic = "tiered-idem";
    const records = (tag: string, n: number): TestRecord[] =>
      Array.from({ length: n }, (_, i) => ({ key: null, value: `${tag}-${i}-`.padEnd(1000, "x"), timestamp: Date.now() }));
    let client: WireClient | null = null;
    const produceBatch = async (batch: Uint8Array): Promise<{ errorCode: number; baseOffset: number }> => {
      const r = await client!.send(Produce, 9, { transactionalId: null, acks: -1, timeoutMs: 10_000, topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }] });
      const p = r.responses[0]!.partitionResponses[0]!;
      return { errorCode: p.errorCode, baseOffset: p.baseOffset };
    };
    /** Plain batches after the producer's, so that its last batch leaves the active segment and is tiered. */
    const pushOutAndTier = async (tag: string, remoteBeyond: number): Promise<void> => {
      for (let i = 0; i < 8; i++) expect((await produceBatch(buildBatch(records(`${tag}${i}`, 5)))).errorCode).toBe(0);
      await waitFor("the producer's batches tiered and deleted locally", () => {
        const m = manifestOf(broker, topic);
        return localLogs(broker, topic).length <= 1 && (m?.segments.at(-1)?.endOffset ?? 0) > remoteBeyond;
      });
    };
    try {
      await createTopic(broker.bootstrap, topic, 1, TIERED({ "segment.bytes": "16384" }));
      client = await WireClient.connect(broker.host, broker.port);
      const init = await client.send(InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 });
      expect(init.errorCode).toBe(0);
      const ids = { producerId: init.producerId, producerEpoch: init.producerEpoch };
      const idem = (seq: number) => buildBatch(records(`p${seq}`, 5), { ...ids, baseSequence: seq });
      for (let i = 0; i < 20; i++) expect(await produceBatch(idem(i * 5))).toEqual({ errorCode: 0, baseOffset: i * 5 });
      await pushOutAndTier("fill-a", 99);
      const segs = manifestOf(broker, topic)!.segments;
      expect(segs.length).toBeGreaterThan(5);
      expect(segs.every((s) => s.producerSnapshot === true)).toBe(true);
      expect(await listOffset(broker, topic, -4)).toBeGreaterThan(100); // the producer's batches are remote-only
      await checkManifestAgainstBucket(broker, "idem", topic);
      const endA = await listOffset(broker, topic, -1);
      client.close();

      // 1. Graceful restart: the local snapshot at the first local segment carries the producer.
      broker = await broker.restart();
      client = await WireClient.connect(broker.host, broker.port);
      expect(await produceBatch(idem(95))).toEqual({ errorCode: 0, baseOffset: 95 });
      expect(await listOffset(broker, topic, -1)).toBe(endA);
      expect((await produceBatch(idem(105))).errorCode).toBe(45); // OUT_OF_ORDER_SEQUENCE_NUMBER: the state is there
      expect(await produceBatch(idem(100))).toEqual({ errorCode: 0, baseOffset: endA });
      await pushOutAndTier("fill-b", endA + 4);
      const endB = await listOffset(broker, topic, -1);
      client.close();

      // 2. kill -9 and the local snapshots lost: the state comes back from the bucket.
      await broker.kill9();
      const partDir = join(dataDir, `${topic}-0`);
      const snaps = readdirSync(partDir).filter((n) => n.endsWith(".snapshot"));
      expect(snaps.length).toBeGreaterThan(0);
      for (const n of snaps) rmSync(join(partDir, n));
      broker = await broker.restart();
      await waitFor("producer state restored from the bucket", () => readFileSync(broker.logFile, "utf8").includes(`restored producer state of ${topic}-0 from the remote snapshot`), 30_000);
      client = await WireClient.connect(broker.host, broker.port);
      expect(await produceBatch(idem(100))).toEqual({ errorCode: 0, baseOffset: endA });
      expect(await listOffset(broker, topic, -1)).toBe(endB);
      expect(await produceBatch(idem(105))).toEqual({ errorCode: 0, baseOffset: endB });
      client.close();
      client = null;

      // Every record once, in order: 21 + 1 producer batches of 5, 16 plain batches of 5.
      const values = (await consumeAll(broker.bootstrap, topic)).toString().split("\n").filter((l) => l !== "").map((l) => l.slice(0, l.indexOf("-x")));
      expect(values.length).toBe(endB + 5);
      expect(new Set(values).size).toBe(values.length);
      expect(values.filter((v) => v.startsWith("p")).length).toBe(22 * 5);
      await waitFor("the last segments tiered", async () => (await orphansOf(broker, "idem", topic)).length === 0, 30_000);
      await checkManifestAgainstBucket(broker, "idem", topic);
    } finally {
      client?.close();
      await broker.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 180_000);
});
