// kafkajs 2.2.4 against the broker: admin (createTopics, listTopics,
// fetchTopicMetadata, fetchTopicOffsets) and producer (keys, headers, explicit
// partitions, gzip, idempotent, sendBatch over two topics). What was produced is
// read back with kcat and checked record by record.
//
// kafkajs can only consume through a consumer group; its consumer test arrives
// together with consumer-group support in the broker.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CompressionTypes, Kafka, logLevel, Partitioners, type Admin, type ITopicConfig, type Producer } from "kafkajs";
import { startTestBroker, type BrokerHandle } from "../support/broker.ts";
import { kcat } from "../support/tools.ts";

let broker: BrokerHandle;
let kafka: Kafka;
let admin: Admin;
const producers: Producer[] = [];
const stamp = Date.now();

beforeAll(async () => {
  broker = await startTestBroker();
  kafka = new Kafka({ clientId: "bunka-kafkajs-test", brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();
}, 120_000);

afterAll(async () => {
  for (const p of producers) await p.disconnect().catch(() => {});
  await admin?.disconnect().catch(() => {});
  await broker?.stop();
}, 60_000);

async function newProducer(opts: Parameters<Kafka["producer"]>[0] = {}): Promise<Producer> {
  const p = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, ...opts });
  await p.connect();
  producers.push(p);
  return p;
}

interface Consumed {
  partition: number;
  offset: number;
  key: string;
  headers: string;
  value: string;
}

/** Reads a whole topic with kcat; values/keys/headers must not contain tab or newline. */
async function readTopic(topic: string): Promise<Consumed[]> {
  const r = await kcat(
    broker.bootstrap,
    ["-C", "-t", topic, "-e", "-o", "beginning", "-q", "-f", "%p\\t%o\\t%k\\t%h\\t%s\\n"],
    { timeoutMs: 60_000 },
  );
  return r.stdout
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const [p, o, key, headers, value] = l.split("\t") as [string, string, string, string, string];
      return { partition: Number(p), offset: Number(o), key, headers, value };
    });
}

/** createTopics, then wait until the broker serves offsets for every partition: a
 *  leader in the metadata does not mean the partition is ready yet (real Kafka can
 *  answer NOT_LEADER / UNKNOWN_TOPIC for a moment after creation). */
async function createTopicsReady(topics: ITopicConfig[]): Promise<boolean> {
  const created = await admin.createTopics({ waitForLeaders: true, topics });
  const deadline = Date.now() + 30_000;
  for (const t of topics) {
    while (true) {
      try {
        const offs = await admin.fetchTopicOffsets(t.topic);
        if (offs.length === (t.numPartitions ?? 1)) break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
      }
      if (Date.now() > deadline) throw new Error(`topic ${t.topic} not ready after 30 s`);
      await Bun.sleep(100);
    }
  }
  return created;
}

async function sumOffsets(topic: string): Promise<number> {
  const offs = await admin.fetchTopicOffsets(topic);
  return offs.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
}

describe("kafkajs admin", () => {
  test("createTopics, listTopics, fetchTopicMetadata, fetchTopicOffsets", async () => {
    const t4 = `kjs-admin4-${stamp}`;
    const t1 = `kjs-admin1-${stamp}`;
    const created = await createTopicsReady([
        { topic: t4, numPartitions: 4, replicationFactor: 1 },
      { topic: t1, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: "retention.ms", value: "600000" }] },
    ]);
    expect(created).toBe(true);
    // kafkajs answers false (not an error) when the topic already exists.
    expect(await admin.createTopics({ topics: [{ topic: t4, numPartitions: 4 }] })).toBe(false);

    const names = await admin.listTopics();
    expect(names).toContain(t4);
    expect(names).toContain(t1);

    const md = await admin.fetchTopicMetadata({ topics: [t4, t1] });
    const byName = new Map(md.topics.map((t) => [t.name, t]));
    expect(byName.get(t4)!.partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2, 3]);
    expect(byName.get(t1)!.partitions).toHaveLength(1);
    for (const t of md.topics) {
      for (const p of t.partitions) {
        expect(p.partitionErrorCode).toBe(0);
        expect(p.leader).toBeGreaterThanOrEqual(0);
        expect(p.replicas).toEqual([p.leader]);
        expect(p.isr).toEqual([p.leader]);
      }
    }

    const offs = await admin.fetchTopicOffsets(t4);
    expect(offs.map((o) => o.partition).sort()).toEqual([0, 1, 2, 3]);
    for (const o of offs) {
      expect(o.offset).toBe("0");
      expect(o.high).toBe("0");
      expect(o.low).toBe("0");
    }
  }, 60_000);
});

describe("kafkajs producer", () => {
  test("keyed messages with headers over 4 partitions, in batches; read back with kcat", async () => {
    const topic = `kjs-keyed-${stamp}`;
    await createTopicsReady([{ topic, numPartitions: 4, replicationFactor: 1 }]);
    const producer = await newProducer();
    const N = 2000;
    const sent: { key: string; value: string; headers: Record<string, string> }[] = [];
    for (let b = 0; b < N / 200; b++) {
      const messages = [];
      for (let i = b * 200; i < (b + 1) * 200; i++) {
        const m = {
          key: `user-${i % 37}`,
          value: `payload ${i} ${"v".repeat(i % 300)}`,
          headers: { seq: String(i), kind: i % 2 ? "odd" : "even" },
        };
        sent.push(m);
        messages.push(m);
      }
      const res = await producer.send({ topic, acks: -1, messages });
      for (const r of res) expect(r.errorCode).toBe(0);
    }
    expect(await sumOffsets(topic)).toBe(N);

    const got = await readTopic(topic);
    expect(got).toHaveLength(N);
    const partitionOfKey = new Map<string, number>();
    const lastSeq = new Map<number, number>();
    const seen = new Set<number>();
    for (const r of got) {
      const m = /^seq=(\d+),kind=(odd|even)$/.exec(r.headers);
      expect(m).not.toBeNull();
      const seq = Number(m![1]);
      const want = sent[seq]!;
      expect(r.key).toBe(want.key);
      expect(r.value).toBe(want.value);
      expect(m![2]).toBe(want.headers.kind!);
      expect(seen.has(seq)).toBe(false);
      seen.add(seq);
      // Same key -> same partition; order kept within a partition.
      const p = partitionOfKey.get(r.key);
      if (p !== undefined) expect(r.partition).toBe(p);
      partitionOfKey.set(r.key, r.partition);
      expect(seq).toBeGreaterThan(lastSeq.get(r.partition) ?? -1);
      lastSeq.set(r.partition, seq);
    }
    expect(new Set(got.map((r) => r.partition)).size).toBeGreaterThan(1);
  }, 60_000);

  test("explicit partitions without keys; baseOffset per send", async () => {
    const topic = `kjs-nokey-${stamp}`;
    await createTopicsReady([{ topic, numPartitions: 3, replicationFactor: 1 }]);
    const producer = await newProducer();
    for (let round = 0; round < 5; round++) {
      for (let p = 0; p < 3; p++) {
        const res = await producer.send({
          topic,
          messages: [0, 1, 2].map((j) => ({ partition: p, value: `r${round}-p${p}-m${j}` })),
        });
        expect(res).toHaveLength(1);
        expect(res[0]!.partition).toBe(p);
        expect(res[0]!.baseOffset).toBe(String(round * 3));
      }
    }
    const offs = await admin.fetchTopicOffsets(topic);
    for (const o of offs) expect(o.high).toBe("15");
    const got = await readTopic(topic);
    expect(got).toHaveLength(45);
    for (const r of got) {
      const round = Math.floor(r.offset / 3);
      expect(r.value).toBe(`r${round}-p${r.partition}-m${r.offset % 3}`);
      expect(r.key).toBe("");
      expect(r.headers).toBe("");
    }
  }, 60_000);

  test("idempotent producer with gzip compression", async () => {
    const topic = `kjs-idem-gzip-${stamp}`;
    await createTopicsReady([{ topic, numPartitions: 2, replicationFactor: 1 }]);
    const producer = await newProducer({ idempotent: true, maxInFlightRequests: 1 });
    const N = 1000;
    for (let b = 0; b < 10; b++) {
      const messages = [];
      for (let i = b * 100; i < (b + 1) * 100; i++) {
        messages.push({ key: `k${i}`, value: `gzip-${i}-${"abc".repeat(50)}`, headers: { i: String(i) } });
      }
      await producer.send({ topic, acks: -1, compression: CompressionTypes.GZIP, messages });
    }
    expect(await sumOffsets(topic)).toBe(N);
    const got = await readTopic(topic);
    expect(got).toHaveLength(N);
    const seqs = got.map((r) => {
      const i = Number(r.headers.replace(/^i=/, ""));
      expect(r.key).toBe(`k${i}`);
      expect(r.value).toBe(`gzip-${i}-${"abc".repeat(50)}`);
      return i;
    });
    expect(new Set(seqs).size).toBe(N);
  }, 60_000);

  test("sendBatch to two topics at once", async () => {
    const a = `kjs-batch-a-${stamp}`;
    const b = `kjs-batch-b-${stamp}`;
    await createTopicsReady([
      { topic: a, numPartitions: 2, replicationFactor: 1 },
      { topic: b, numPartitions: 1, replicationFactor: 1 },
    ]);
    const producer = await newProducer();
    const res = await producer.sendBatch({
      acks: -1,
      topicMessages: [
        { topic: a, messages: Array.from({ length: 50 }, (_, i) => ({ key: `a${i}`, value: `A${i}` })) },
        { topic: b, messages: Array.from({ length: 30 }, (_, i) => ({ value: `B${i}` })) },
      ],
    });
    for (const r of res) expect(r.errorCode).toBe(0);
    expect(new Set(res.map((r) => r.topicName))).toEqual(new Set([a, b]));
    const gotA = await readTopic(a);
    const gotB = await readTopic(b);
    expect(gotA.map((r) => r.value).sort()).toEqual(Array.from({ length: 50 }, (_, i) => `A${i}`).sort());
    for (const r of gotA) expect(r.key).toBe(`a${r.value.slice(1)}`);
    expect(gotB.map((r) => r.value)).toEqual(Array.from({ length: 30 }, (_, i) => `B${i}`));
  }, 60_000);
});
