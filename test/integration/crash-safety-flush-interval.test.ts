// Crash safety in flush-interval mode (log.flush.interval.ms set: Kafka's non-durable default
// behaviour). Acknowledgements there do not wait for fsync, but an acknowledged write must have
// reached the kernel, so a crash of the broker process (kill -9, page cache intact) loses nothing
// acknowledged — with acks=1 and acks=all alike, whatever the segment I/O backend setting.
// Found by the Kafka comparison benchmark: the native engine used to acknowledge writes still queued
// in the process.
import { afterAll, expect, test } from "bun:test";
import { startBunka, type BrokerHandle } from "../support/broker.ts";
import { Prng, WireClient, createTopics, fetchAll, hashBytes, produceRaw } from "../support/load.ts";
import { buildRecordBatch, type ProducedRecord } from "../../src/client/record-batch-builder.ts";

const SEED = Number(process.env.BUNKA_CRASH_SEED ?? Date.now() % 2 ** 31);
const TOPIC = "crash-flush";
const PARTITIONS = 3;
const LOOPS = 12;
const LOAD_MS = 1500;
const enc = new TextEncoder();

let broker: BrokerHandle | null = null;
afterAll(async () => {
  await broker?.stop();
}, 30_000);

test("acks=1 and acks=all records survive kill -9 in flush-interval mode", async () => {
  console.log(`crash-safety-flush-interval seed ${SEED}`);
  const rng = new Prng(SEED);
  broker = await startBunka({ name: "crash-flush", overrides: { "log.flush.interval.ms": "60000" } });
  const admin = await WireClient.connect(broker.host, broker.port);
  expect((await createTopics(admin, [{ name: TOPIC, partitions: PARTITIONS, configs: { "segment.bytes": "262144" } }]))[0]!.errorCode).toBe(0);
  admin.close();

  const acked: Map<number, string>[] = Array.from({ length: PARTITIONS }, () => new Map());
  const clients = await Promise.all([0, 1, 2].map((i) => WireClient.connect(broker!.host, broker!.port, `flush-${i}`)));
  let stopped = false;
  let seq = 0;
  let errors = 0;
  const loops = Array.from({ length: LOOPS }, (_, l) => {
    const lr = new Prng(rng.u32());
    const acks = l % 2 === 0 ? 1 : -1;
    return (async () => {
      while (!stopped) {
        const partition = lr.int(PARTITIONS);
        const records: ProducedRecord[] = [];
        for (let i = 0, n = 1 + lr.int(8); i < n; i++) {
          const id = `l${l}-${seq++}`;
          records.push({ key: enc.encode(id), value: Buffer.concat([enc.encode(id), lr.bytes(lr.int(1500))]) });
        }
        let res;
        try {
          res = await produceRaw(clients[l % clients.length]!, TOPIC, partition, buildRecordBatch(records), acks, 9);
        } catch {
          return; // the broker died with this request in flight: not acknowledged
        }
        if (res.errorCode !== 0) {
          errors++;
          continue;
        }
        records.forEach((r, i) => acked[partition]!.set(res.baseOffset + i, `${hashBytes(r.key ?? null)}/${hashBytes(r.value)}`));
      }
    })();
  });
  await Bun.sleep(LOAD_MS);
  await broker.kill9();
  stopped = true;
  await Promise.all(loops);
  for (const c of clients) c.close();
  expect(errors).toBe(0);
  const total = acked.reduce((n, m) => n + m.size, 0);
  expect(total).toBeGreaterThan(100);

  await broker.restart();
  const c = await WireClient.connect(broker.host, broker.port);
  const problems: string[] = [];
  for (let p = 0; p < PARTITIONS; p++) {
    const got = await fetchAll(c, TOPIC, p, 0);
    got.records.forEach((r, i) => {
      if (r.offset !== i && problems.length < 10) problems.push(`p${p}: record #${i} has offset ${r.offset}`);
    });
    let lost = 0;
    for (const [off, h] of acked[p]!) {
      const r = got.records[off];
      if (!r || `${hashBytes(r.key)}/${hashBytes(r.value)}` !== h) lost++;
    }
    if (lost > 0) problems.push(`p${p}: ${lost} of ${acked[p]!.size} acknowledged records lost or changed`);
  }
  c.close();
  console.log(`acknowledged ${total} records; problems: ${problems.length}`);
  expect(problems).toEqual([]);
}, 90_000);
