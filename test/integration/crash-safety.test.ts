// Crash safety of the durable (default) mode: acks=all is answered only after fsync, so an
// acknowledged record must survive SIGKILL. Several wire-client producers pipeline Produce v9
// acks=-1 requests to several partitions; every acknowledged (partition, baseOffset, records) is
// remembered; the broker is SIGKILLed while requests are in flight and restarted on the same data
// dir. Then: every acknowledged record is readable at its acknowledged offset with identical
// content, offsets are contiguous from 0, the high watermark covers every ack, everything that was
// readable after the previous restart is still there unchanged, and new produce lands at the log
// end. Three kill/restart cycles, checked cumulatively.
//
// Java client variant: not included — test/clients/java/ProduceConsume has no mode that reports
// which sends were acknowledged before a crash, so the check here uses the wire client only.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startBunka, type BrokerHandle } from "../support/broker.ts";
import { Prng, WireClient, createTopics, fetchAll, hashBytes, listOffset, produceRaw } from "../support/load.ts";
import { buildRecordBatch, type ProducedRecord } from "../../src/client/record-batch-builder.ts";

const SEED = Number(process.env.BUNKA_CRASH_SEED ?? (Date.now() % 2 ** 31));
const TOPIC = "crash";
const PARTITIONS = 4;
const PRODUCERS = 4;
const IN_FLIGHT_PER_PRODUCER = 8;
const LOAD_MS = 2500;
const CYCLES = 3;

let broker: BrokerHandle;
/** partition → offset → hash of key+value of every acknowledged record. */
const acked: Map<number, string>[] = Array.from({ length: PARTITIONS }, () => new Map());
/** partition → hashes of everything readable after the last restart (index = offset). */
let readable: string[][] = Array.from({ length: PARTITIONS }, () => []);

function recordHash(key: Uint8Array | null, value: Uint8Array | null): string {
  return `${hashBytes(key)}/${hashBytes(value)}`;
}

beforeAll(async () => {
  console.log(`crash-safety seed: ${SEED} (rerun with BUNKA_CRASH_SEED=${SEED})`);
  broker = await startBunka({ name: "crash" });
  const c = await WireClient.connect(broker.host, broker.port);
  const res = await createTopics(c, [{ name: TOPIC, partitions: PARTITIONS, configs: { "segment.bytes": "1048576" } }]);
  expect(res[0]!.errorCode).toBe(0);
  c.close();
}, 60_000);

afterAll(async () => {
  await broker?.stop();
}, 30_000);

interface LoadStats {
  requests: number;
  ackedRequests: number;
  ackedRecords: number;
  errors: Record<string, number>;
  inFlightAtKill: number;
}

/** Runs the produce load, SIGKILLs the broker mid-flight, returns stats. */
async function loadThenKill(cycle: number, rng: Prng): Promise<LoadStats> {
  const stats: LoadStats = { requests: 0, ackedRequests: 0, ackedRecords: 0, errors: {}, inFlightAtKill: 0 };
  let inFlight = 0;
  let stopped = false;
  const clients: WireClient[] = [];
  for (let i = 0; i < PRODUCERS; i++) clients.push(await WireClient.connect(broker.host, broker.port, `crash-producer-${i}`));
  let seq = 0;
  const loops: Promise<void>[] = [];
  for (let p = 0; p < PRODUCERS; p++) {
    for (let l = 0; l < IN_FLIGHT_PER_PRODUCER; l++) {
      const lr = new Prng(rng.u32());
      loops.push(
        (async () => {
          while (!stopped) {
            const partition = lr.int(PARTITIONS);
            const n = 1 + lr.int(20);
            const records: ProducedRecord[] = [];
            for (let i = 0; i < n; i++) {
              const id = `c${cycle}-p${p}-l${l}-${seq++}`;
              records.push({ key: new TextEncoder().encode(id), value: Buffer.concat([new TextEncoder().encode(id + ":"), lr.bytes(lr.int(900))]) });
            }
            inFlight++;
            stats.requests++;
            let res;
            try {
              res = await produceRaw(clients[p]!, TOPIC, partition, buildRecordBatch(records), -1, 9);
            } catch {
              inFlight--;
              return; // connection gone (the kill)
            } finally {
              // decremented above on failure; on success below
            }
            inFlight--;
            if (res.errorCode !== 0) {
              stats.errors[String(res.errorCode)] = (stats.errors[String(res.errorCode)] ?? 0) + 1;
              continue;
            }
            stats.ackedRequests++;
            stats.ackedRecords += n;
            const m = acked[partition]!;
            records.forEach((r, i) => {
              const off = res.baseOffset + i;
              if (m.has(off)) throw new Error(`offset ${partition}/${off} acknowledged twice`);
              m.set(off, recordHash(r.key ?? null, r.value));
            });
          }
        })(),
      );
    }
  }
  await Bun.sleep(LOAD_MS);
  stats.inFlightAtKill = inFlight;
  await broker.kill9();
  stopped = true;
  await Promise.all(loops);
  for (const c of clients) c.close();
  return stats;
}

async function verifyAfterRestart(cycle: number): Promise<void> {
  const c = await WireClient.connect(broker.host, broker.port);
  const problems: string[] = [];
  const nowReadable: string[][] = [];
  for (let p = 0; p < PARTITIONS; p++) {
    const got = await fetchAll(c, TOPIC, p, 0);
    const hashes: string[] = [];
    got.records.forEach((r, i) => {
      if (r.offset !== i && problems.length < 20) problems.push(`p${p}: record #${i} has offset ${r.offset} (gap or duplicate)`);
      hashes.push(recordHash(r.key, r.value));
    });
    nowReadable.push(hashes);
    if (got.logStartOffset !== 0) problems.push(`p${p}: log start offset ${got.logStartOffset}`);
    if (got.highWatermark !== hashes.length) problems.push(`p${p}: high watermark ${got.highWatermark} but ${hashes.length} records readable`);
    const maxAcked = Math.max(-1, ...acked[p]!.keys());
    if (got.highWatermark < maxAcked + 1) problems.push(`p${p}: high watermark ${got.highWatermark} < last acknowledged offset ${maxAcked} + 1`);
    let lost = 0;
    for (const [off, h] of acked[p]!) {
      if (hashes[off] !== h) {
        lost++;
        if (lost <= 5) problems.push(`p${p}: acknowledged offset ${off} ${hashes[off] === undefined ? "missing" : "has different content"}`);
      }
    }
    if (lost > 5) problems.push(`p${p}: ${lost} acknowledged records lost or changed in total`);
    const before = readable[p]!;
    let changed = 0;
    for (let off = 0; off < before.length; off++) if (hashes[off] !== before[off]) changed++;
    if (changed > 0) problems.push(`p${p}: ${changed} records readable after the previous restart are missing or changed`);
    const leo = await listOffset(c, TOPIC, p, -1);
    if (leo.offset !== hashes.length) problems.push(`p${p}: ListOffsets latest ${leo.offset}, ${hashes.length} records readable`);
  }
  console.log(`cycle ${cycle}: readable per partition ${nowReadable.map((h) => h.length).join(",")}; acknowledged ${acked.map((m) => m.size).join(",")}`);
  expect(problems).toEqual([]);
  readable = nowReadable;

  // New produce continues at the log end.
  for (let p = 0; p < PARTITIONS; p++) {
    const key = new TextEncoder().encode(`after-restart-${cycle}-${p}`);
    const value = new TextEncoder().encode(`continue ${cycle}`);
    const res = await produceRaw(c, TOPIC, p, buildRecordBatch([{ key, value }]), -1, 9);
    expect(`p${p}: ${res.errorCode}@${res.baseOffset}`).toBe(`p${p}: 0@${readable[p]!.length}`);
    acked[p]!.set(res.baseOffset, recordHash(key, value));
    readable[p]!.push(recordHash(key, value));
  }
  c.close();
}

test(`acknowledged acks=all records survive SIGKILL (${CYCLES} kill/restart cycles)`, async () => {
  const rng = new Prng(SEED);
  for (let cycle = 1; cycle <= CYCLES; cycle++) {
    const stats = await loadThenKill(cycle, rng);
    console.log(`cycle ${cycle}: ${JSON.stringify(stats)}`);
    expect(stats.ackedRequests).toBeGreaterThan(20);
    expect(stats.inFlightAtKill).toBeGreaterThan(0);
    expect(broker.proc!.signalCode ?? broker.proc!.exitCode).toBe("SIGKILL");
    await broker.restart();
    await verifyAfterRestart(cycle);
  }
}, 120_000);
