/**
 * Tiering figures, against a real MinIO (scripts/minio.sh; build it with scripts/setup-test-deps.sh):
 *
 *   1. Remote fetch latency: one Fetch (64 KiB partition max) at the start of a segment that is
 *      only in the bucket, cold (nothing cached nor read ahead: a GET of the index, then one ranged
 *      GET of a 1 MiB chunk) and warm (the chunk already in the chunk cache). With a 64 KiB response the response time is the
 *      first-byte time, give or take one loopback write.
 *   2. Remote read throughput: a consumer reading the tiered part front to back with 1 MiB fetches,
 *      cold and again through the chunk cache.
 *   3. Local disk kept vs total log bytes for a retention-heavy topic (local.retention.bytes 8 MiB).
 *   4. Hot cache hit rate: tail readers (long-poll consumers following producers on 8 partitions),
 *      then one consumer catching up from offset 0 after more than the cache was written.
 *   5. Upload concurrency: 8 partitions of sealed 1 MiB segments written with tiering off, then
 *      remote.storage.enable turned on: time until every partition is tiered, with
 *      bunka.tier.upload.concurrency 1 and 4.
 *
 *   bun bench/tiering.bench.ts            # ~1-2 minutes
 *   bun bench/tiering.bench.ts --quick    # smaller data
 *
 * Brokers are started with test/support/broker.ts (data under .cache/bench-data/), requests sent
 * with the wire client (no client-library batching in the way). Results also go to
 * .cache/bench-results/tiering-<time>.json.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CreateTopics, Fetch, ListOffsets, Produce } from "../src/client/codecs.ts";
import { codec } from "../src/client/wire-client.ts";
import { writeIncrementalAlterConfigsRequest } from "../src/protocol/generated/incremental-alter-configs-request.ts";
import { readIncrementalAlterConfigsResponse } from "../src/protocol/generated/incremental-alter-configs-response.ts";
import { buildRecordBatch } from "../src/client/record-batch-builder.ts";
import { WireClient } from "../src/client/wire-client.ts";
import { decodeManifest, MANIFEST_FILE } from "../src/tiering/manifest.ts";
import { REPO_ROOT, startBunka, type BrokerHandle } from "../test/support/broker.ts";
import { describeEnvironment } from "./lib/env.ts";
import { fetchRequest, FETCH_VERSION, produceRequest, PRODUCE_VERSION, checkProduce } from "./lib/kafka.ts";
import { fmtMs, summarize, table, type Row } from "./lib/stats.ts";

const QUICK = process.argv.includes("--quick");
const MiB = 1024 * 1024;
const REMOTE_MB = QUICK ? 32 : 96;
const RETENTION_MB = QUICK ? 32 : 64;
const TAIL_SECONDS = QUICK ? 5 : 10;
const CONCURRENCY_PARTITIONS = 8;
const CONCURRENCY_MB_PER_PARTITION = QUICK ? 4 : 8;
const IncrementalAlterConfigs = codec(44, writeIncrementalAlterConfigsRequest, readIncrementalAlterConfigsResponse);
const ACCESS = "bunka";
const SECRET = "bunka-secret";
const BENCH_DIR = join(REPO_ROOT, ".cache", "bench-data");

async function freePort(): Promise<number> {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

async function minio(...args: string[]): Promise<void> {
  const p = Bun.spawn(["bash", join(REPO_ROOT, "scripts", "minio.sh"), ...args], {
    env: { ...process.env, MINIO_ROOT_USER: ACCESS, MINIO_ROOT_PASSWORD: SECRET },
    stdout: "inherit",
    stderr: "inherit",
  });
  if ((await p.exited) !== 0) throw new Error(`scripts/minio.sh ${args.join(" ")} failed`);
}

function tieredBroker(port: number, dataDir: string, extra: Record<string, string> = {}): Promise<BrokerHandle> {
  return startBunka({
    name: "bench-tiering",
    dataDir,
    overrides: {
      "bunka.tier.s3.endpoint": `http://127.0.0.1:${port}`,
      "bunka.tier.s3.bucket": "bench",
      "remote.log.manager.task.interval.ms": "200",
      ...extra,
    },
    env: { BUNKA_TIER_S3_ACCESS_KEY: ACCESS, BUNKA_TIER_S3_SECRET_KEY: SECRET },
  });
}

async function createTopic(c: WireClient, name: string, partitions: number, configs: Record<string, string>): Promise<void> {
  const res = await c.send(CreateTopics, 7, {
    topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: Object.entries(configs).map(([n, value]) => ({ name: n, value })) }],
    timeoutMs: 30_000,
    validateOnly: false,
  });
  const t = res.topics[0];
  if (!t || t.errorCode !== 0) throw new Error(`CreateTopics ${name}: ${t?.errorCode} ${t?.errorMessage ?? ""}`);
}

/** A batch of `n` 1 KiB records. */
function batch(n: number, seed: number): Uint8Array {
  const records = Array.from({ length: n }, (_, i) => {
    const value = new Uint8Array(1024);
    for (let j = 0; j < value.length; j += 64) value[j] = (seed + i + j) & 0xff;
    return { value };
  });
  return buildRecordBatch(records);
}

async function produceMB(c: WireClient, topic: string, partition: number, mb: number): Promise<void> {
  const perBatch = 64; // 64 KiB batches
  const batches = (mb * 1024) / perBatch;
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < batches; i++) {
    inflight.push(c.send(Produce, PRODUCE_VERSION, produceRequest(topic, partition, batch(perBatch, i))).then((r) => void checkProduce(r)));
    if (inflight.length >= 16) await inflight.shift();
  }
  await Promise.all(inflight);
}

async function listOffset(c: WireClient, topic: string, partition: number, ts: number): Promise<number> {
  const r = await c.send(ListOffsets, 9, {
    replicaId: -1, isolationLevel: 0, timeoutMs: 0,
    topics: [{ name: topic, partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp: ts, maxNumOffsets: 1 }] }],
  });
  return r.topics[0]!.partitions[0]!.offset ?? -1;
}

async function fetchOnce(c: WireClient, topic: string, partition: number, offset: number, maxBytes: number): Promise<{ bytes: number; ms: number; next: number }> {
  const req = fetchRequest(topic, partition, offset, 0);
  req.maxBytes = maxBytes;
  req.topics[0]!.partitions[0]!.partitionMaxBytes = maxBytes;
  const t = performance.now();
  const res = await c.send(Fetch, FETCH_VERSION, req);
  const ms = performance.now() - t;
  const p = res.responses[0]!.partitions[0]!;
  if (p.errorCode !== 0) throw new Error(`fetch at ${offset}: error ${p.errorCode}`);
  const rec = p.records ?? new Uint8Array(0);
  return { bytes: rec.length, ms, next: lastOffsetPlusOne(rec, offset) };
}

function lastOffsetPlusOne(records: Uint8Array, fallback: number): number {
  const dv = new DataView(records.buffer, records.byteOffset, records.byteLength);
  let pos = 0;
  let next = fallback;
  while (pos + 61 <= records.length) {
    const base = Number(dv.getBigInt64(pos));
    next = base + dv.getInt32(pos + 23) + 1;
    pos += dv.getInt32(pos + 8) + 12;
  }
  return next;
}

async function waitFor(what: string, cond: () => Promise<boolean>, ms = 120_000): Promise<void> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > ms) throw new Error(`timeout waiting for ${what}`);
    await Bun.sleep(100);
  }
}

function dirBytes(dir: string, suffix: string): number {
  return readdirSync(dir).filter((n) => n.endsWith(suffix)).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

function logLine(b: BrokerHandle, re: RegExp): RegExpExecArray | null {
  return re.exec(readFileSync(b.logFile, "utf8"));
}

async function remoteFigures(port: number, root: string): Promise<{ rows: Row[]; lines: string[] }> {
  // A 1 MiB memory tier so that every read of old offsets goes to the bucket.
  const b = await tieredBroker(port, join(root, "remote"), { "bunka.hot.cache.bytes": String(MiB), "bunka.tier.chunk.cache.bytes": String(256 * MiB) });
  const c = await WireClient.connect(b.host, b.port);
  const topic = "remote";
  try {
    await createTopic(c, topic, 1, { "remote.storage.enable": "true", "segment.bytes": String(MiB), "local.retention.bytes": "0", "retention.ms": "-1" });
    await produceMB(c, topic, 0, REMOTE_MB);
    const end = await listOffset(c, topic, 0, -1);
    await waitFor("tiering", async () => (await listOffset(c, topic, 0, -4)) > end - 2000);
    const manifest = decodeManifest(readFileSync(join(b.dataDir, `${topic}-0`, MANIFEST_FILE)));
    const bases = manifest.segments.map((s) => s.baseOffset);
    const half = Math.floor(bases.length / 2);

    // 1. first-byte latency, cold then warm, on every third segment of the second half (never read
    // before, and out of reach of the read-ahead of the previous probe, which covers 2 segments).
    const cold: number[] = [];
    const warm: number[] = [];
    const probes = bases.slice(half).filter((_, i) => i % 3 === 0).slice(0, 30);
    for (const base of probes) cold.push((await fetchOnce(c, topic, 0, base, 64 * 1024)).ms);
    for (const base of probes) warm.push((await fetchOnce(c, topic, 0, base, 64 * 1024)).ms);

    // 2. throughput over the first half, cold then warm.
    const stopAt = bases[half] ?? end;
    const pass = async () => {
      let offset = 0;
      let bytes = 0;
      const t = performance.now();
      const lat: number[] = [];
      while (offset < stopAt) {
        const r = await fetchOnce(c, topic, 0, offset, MiB);
        bytes += r.bytes;
        lat.push(r.ms);
        offset = r.next;
      }
      return { bytes, ms: performance.now() - t, lat };
    };
    const p1 = await pass();
    const p2 = await pass();
    c.close();
    await b.stop();
    const stats = logLine(b, /tiering stats: .*/)?.[0] ?? "";
    const mbps = (p: { bytes: number; ms: number }) => ((p.bytes / MiB) / (p.ms / 1000)).toFixed(0);
    const rows: Row[] = [
      { name: "remote Fetch 64 KiB, cold (first byte)", s: summarize(cold, 0) },
      { name: "remote Fetch 64 KiB, chunk cache warm", s: summarize(warm, 0) },
      { name: `sequential 1 MiB fetches, cold: ${mbps(p1)} MB/s`, s: summarize(p1.lat, p1.ms) },
      { name: `sequential 1 MiB fetches, warm: ${mbps(p2)} MB/s`, s: summarize(p2.lat, p2.ms) },
    ];
    return { rows, lines: [`remote part read: ${(p1.bytes / MiB).toFixed(1)} MiB in ${manifest.segments.length} remote segments of 1 MiB`, stats] };
  } finally {
    c.close();
    await b.stop().catch(() => {});
  }
}

async function retentionFigures(port: number, root: string): Promise<string[]> {
  const b = await tieredBroker(port, join(root, "retention"));
  const c = await WireClient.connect(b.host, b.port);
  const topic = "retention-heavy";
  try {
    await createTopic(c, topic, 1, {
      "remote.storage.enable": "true", "segment.bytes": String(MiB), "local.retention.bytes": String(8 * MiB), "retention.ms": "-1",
      "file.delete.delay.ms": "0",
    });
    await produceMB(c, topic, 0, RETENTION_MB);
    const dir = join(b.dataDir, `${topic}-0`);
    const end = await listOffset(c, topic, 0, -1);
    await waitFor("local retention", async () => dirBytes(dir, ".log") <= 10 * MiB && (await listOffset(c, topic, 0, -5)) > end - 2000);
    const manifest = decodeManifest(readFileSync(join(dir, MANIFEST_FILE)));
    const remoteBytes = manifest.segments.reduce((n, s) => n + s.size, 0);
    const localBytes = dirBytes(dir, ".log");
    const localStart = await listOffset(c, topic, 0, -4);
    const overlap = manifest.segments.filter((s) => s.baseOffset >= localStart).reduce((n, s) => n + s.size, 0);
    const total = remoteBytes + localBytes - overlap;
    const indexBytes = dirBytes(dir, ".index") + dirBytes(dir, ".timeindex");
    return [
      `retention-heavy topic (${RETENTION_MB} MiB produced, segment.bytes 1 MiB, local.retention.bytes 8 MiB): ` +
        `local .log bytes ${(localBytes / MiB).toFixed(1)} MiB (+ ${(indexBytes / 1024).toFixed(0)} KiB indexes) of a ${(total / MiB).toFixed(1)} MiB log ` +
        `= ${((100 * localBytes) / total).toFixed(1)} % kept on local disk; ${manifest.segments.length} segments in the bucket`,
    ];
  } finally {
    c.close();
    await b.stop().catch(() => {});
  }
}

async function hotCacheFigures(port: number, root: string): Promise<string[]> {
  const lines: string[] = [];
  // Tail readers: 8 partitions, one producer and one long-poll consumer each.
  {
    const b = await tieredBroker(port, join(root, "hot-tail"));
    const admin = await WireClient.connect(b.host, b.port);
    await createTopic(admin, "tail", 8, {});
    let stop = false;
    let consumed = 0;
    const workers: Promise<void>[] = [];
    for (let p = 0; p < 8; p++) {
      workers.push((async () => {
        const prod = await WireClient.connect(b.host, b.port);
        let i = 0;
        while (!stop) await prod.send(Produce, PRODUCE_VERSION, produceRequest("tail", p, batch(16, i++))).then(checkProduce);
        prod.close();
      })());
      workers.push((async () => {
        const cons = await WireClient.connect(b.host, b.port);
        let offset = 0;
        while (!stop) {
          const res = await cons.send(Fetch, FETCH_VERSION, fetchRequest("tail", p, offset, 200));
          const rec = res.responses[0]!.partitions[0]!.records ?? new Uint8Array(0);
          consumed += rec.length;
          offset = lastOffsetPlusOne(rec, offset);
        }
        cons.close();
      })());
    }
    await Bun.sleep(TAIL_SECONDS * 1000);
    stop = true;
    await Promise.all(workers);
    admin.close();
    await b.stop();
    const m = logLine(b, /hot cache: (\d+) hit\(s\) \/ (\d+) miss\(es\) \(([\d.]+) %/);
    lines.push(`tail readers (8 partitions, 8 producers of 16 KiB batches, 8 long-poll consumers, ${TAIL_SECONDS} s, ${(consumed / MiB).toFixed(0)} MiB consumed): hot cache ${m?.[1]} hits / ${m?.[2]} misses = ${m?.[3]} % of reads from memory`);
  }
  // A consumer catching up from 0 after 3x the cache (16 MiB) was written: mostly misses, as it should.
  {
    const b = await tieredBroker(port, join(root, "hot-catchup"), { "bunka.hot.cache.bytes": String(16 * MiB) });
    const c = await WireClient.connect(b.host, b.port);
    await createTopic(c, "catchup", 1, {});
    await produceMB(c, "catchup", 0, 48);
    let offset = 0;
    const end = await listOffset(c, "catchup", 0, -1);
    while (offset < end) offset = (await fetchOnce(c, "catchup", 0, offset, MiB)).next;
    c.close();
    await b.stop();
    const m = logLine(b, /hot cache: (\d+) hit\(s\) \/ (\d+) miss\(es\) \(([\d.]+) %/);
    lines.push(`catch-up reader from offset 0 after 48 MiB written with a 16 MiB hot cache: ${m?.[1]} hits / ${m?.[2]} misses = ${m?.[3]} % from memory (the last third)`);
  }
  return lines;
}

/** Tiering of a backlog over several partitions, by upload concurrency (see 5. in the file comment). */
async function concurrencyFigures(port: number, root: string): Promise<string[]> {
  const lines: string[] = [];
  for (const concurrency of [1, 4]) {
    const b = await tieredBroker(port, join(root, `concurrency-${concurrency}`), { "bunka.tier.upload.concurrency": String(concurrency), "bunka.tier.prefix": `c${concurrency}` });
    const c = await WireClient.connect(b.host, b.port);
    const topic = "backlog";
    try {
      await createTopic(c, topic, CONCURRENCY_PARTITIONS, { "segment.bytes": String(MiB), "local.retention.bytes": "0", "retention.ms": "-1", "file.delete.delay.ms": "0" });
      await Promise.all(Array.from({ length: CONCURRENCY_PARTITIONS }, (_, p) => produceMB(c, topic, p, CONCURRENCY_MB_PER_PARTITION)));
      const t = performance.now();
      const r = await c.send(IncrementalAlterConfigs, 1, {
        resources: [{ resourceType: 2, resourceName: topic, configs: [{ name: "remote.storage.enable", configOperation: 0, value: "true" }] }],
        validateOnly: false,
      });
      if (r.responses[0]!.errorCode !== 0) throw new Error(`IncrementalAlterConfigs: ${r.responses[0]!.errorCode}`);
      // Tiered: nothing sealed waits for upload (-5 = -4) and local retention kept only the active segment.
      await waitFor("every partition tiered", async () => {
        for (let p = 0; p < CONCURRENCY_PARTITIONS; p++) {
          const localStart = await listOffset(c, topic, p, -4);
          if (localStart <= 0 || (await listOffset(c, topic, p, -5)) !== localStart) return false;
        }
        return true;
      });
      const ms = performance.now() - t;
      const mb = CONCURRENCY_PARTITIONS * CONCURRENCY_MB_PER_PARTITION;
      lines.push(`backlog of ${CONCURRENCY_PARTITIONS} partitions x ${CONCURRENCY_MB_PER_PARTITION} MiB tiered with bunka.tier.upload.concurrency=${concurrency}: ${fmtMs(ms)} (${(mb / (ms / 1000)).toFixed(0)} MiB/s)`);
    } finally {
      c.close();
      await b.stop().catch(() => {});
    }
  }
  return lines;
}

async function main(): Promise<void> {
  if (!existsSync(join(REPO_ROOT, ".cache", "bin", "minio"))) throw new Error("MinIO missing: bash scripts/setup-test-deps.sh");
  mkdirSync(BENCH_DIR, { recursive: true });
  const root = mkdtempSync(join(BENCH_DIR, "tiering-"));
  const port = await freePort();
  const minioDir = join(root, "minio");
  const env = describeEnvironment(root);
  console.log(`tiering bench: ${env.cores} cores, ${env.cpuModel}, ${env.fsType}, bun ${env.bun}${QUICK ? " (quick)" : ""}`);
  await minio("start", String(port), minioDir);
  try {
    if (process.argv.includes("--only-concurrency")) {
      for (const l of await concurrencyFigures(port, root)) console.log(l);
      return;
    }
    const remote = await remoteFigures(port, root);
    console.log(table(remote.rows));
    for (const l of remote.lines) console.log(l);
    const retention = await retentionFigures(port, root);
    for (const l of retention) console.log(l);
    const hot = await hotCacheFigures(port, root);
    for (const l of hot) console.log(l);
    const concurrency = await concurrencyFigures(port, root);
    for (const l of concurrency) console.log(l);
    const out = join(REPO_ROOT, ".cache", "bench-results");
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, `tiering-${Date.now()}.json`), JSON.stringify({ env, remote, retention, hot, concurrency }, null, 2));
  } finally {
    await minio("stop", minioDir).catch(() => {});
    rmSync(root, { recursive: true, force: true });
  }
  console.log(`(${fmtMs(performance.now())} total)`);
}

await main();
