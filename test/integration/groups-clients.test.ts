// Consumer groups with kcat's balanced consumer, kafkajs (produce → group consume), Kafka's
// kafka-consumer-groups tool (list, describe, reset to earliest, delete), and committed offsets
// surviving a kill -9 of the broker.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Kafka, logLevel } from "kafkajs";
import { startTestBroker, type BrokerHandle } from "../support/broker.ts";
import { createTopic, java, kcat } from "../support/tools.ts";

const stamp = Date.now();
let broker: BrokerHandle;
let kafka: Kafka;

beforeAll(async () => {
  broker = await startTestBroker({ overrides: { "group.initial.rebalance.delay.ms": "0" }, name: "groups-clients" });
  kafka = new Kafka({ clientId: "bunka-groups-test", brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
}, 60_000);

afterAll(async () => {
  await broker?.stop();
}, 30_000);

function groupsTool(args: string[]) {
  return java("org.apache.kafka.tools.consumer.group.ConsumerGroupCommand", ["--bootstrap-server", broker.bootstrap, ...args], {
    jvmArgs: ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"],
    timeoutMs: 60_000,
  });
}

test("kcat balanced consumer reads everything, commits, and resumes from its commit", async () => {
  const topic = `kcat-g-${stamp}`;
  await createTopic(broker.bootstrap, topic, 3);
  const lines = Array.from({ length: 3000 }, (_, i) => `r${i}`).join("\n") + "\n";
  await kcat(broker.bootstrap, ["-P", "-t", topic], { stdin: lines });
  const first = await kcat(broker.bootstrap, ["-G", `kg-${stamp}`, "-o", "beginning", "-e", "-q", "-X", "enable.auto.commit=true", "-X", "auto.commit.interval.ms=100", topic], { timeoutMs: 60_000 });
  expect(first.stdout.trim().split("\n").sort()).toEqual(lines.trim().split("\n").sort());
  await kcat(broker.bootstrap, ["-P", "-t", topic], { stdin: "late-1\nlate-2\n" });
  const second = await kcat(broker.bootstrap, ["-G", `kg-${stamp}`, "-e", "-q", "-X", "auto.offset.reset=earliest", topic], { timeoutMs: 60_000 });
  expect(second.stdout.trim().split("\n").sort()).toEqual(["late-1", "late-2"]);
}, 120_000);

test("kafkajs: produce, then consume through a group; offsets committed", async () => {
  const topic = `kjs-g-${stamp}`;
  const group = `kjs-${stamp}`;
  await createTopic(broker.bootstrap, topic, 4);
  const producer = kafka.producer();
  await producer.connect();
  const sent = Array.from({ length: 2000 }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));
  for (let i = 0; i < sent.length; i += 500) await producer.send({ topic, messages: sent.slice(i, i + 500) });
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10_000, heartbeatInterval: 1000 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got = new Set<string>();
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  await consumer.run({
    eachMessage: async ({ message }) => {
      got.add(`${message.key}=${message.value}`);
      if (got.size === sent.length) resolve();
    },
  });
  await Promise.race([done, Bun.sleep(60_000)]);
  await consumer.disconnect(); // commits and leaves
  expect(got.size).toBe(sent.length);
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const committed = new Map(offsets[0]!.partitions.map((p) => [p.partition, p.offset]));
  for (const e of ends) expect(committed.get(e.partition)).toBe(e.high);
}, 120_000);

test("kafka-consumer-groups: list, describe, reset to earliest, delete", async () => {
  const topic = `tool-g-${stamp}`;
  const group = `tool-${stamp}`;
  await createTopic(broker.bootstrap, topic, 2);
  await kcat(broker.bootstrap, ["-P", "-t", topic, "-p", "0"], { stdin: "a\nb\n" });
  await kcat(broker.bootstrap, ["-P", "-t", topic, "-p", "1"], { stdin: "c\nd\n" });
  await kcat(broker.bootstrap, ["-G", group, "-o", "beginning", "-e", "-q", topic], { timeoutMs: 60_000 });

  const list = await groupsTool(["--list"]);
  expect(list.stdout.split("\n")).toContain(group);
  const describe = await groupsTool(["--describe", "--group", group]);
  const rows = describe.stdout.split("\n").filter((l) => l.startsWith(group));
  expect(rows.length).toBe(2);
  for (const r of rows) {
    const [, t, , current, end, lag] = r.trim().split(/\s+/);
    expect(t).toBe(topic);
    expect(current).toBe(end);
    expect(lag).toBe("0");
  }
  const reset = await groupsTool(["--reset-offsets", "--to-earliest", "--execute", "--group", group, "--topic", topic]);
  expect(reset.stdout).toContain(topic);
  const after = await groupsTool(["--describe", "--group", group]);
  for (const r of after.stdout.split("\n").filter((l) => l.startsWith(group))) expect(r.trim().split(/\s+/)[3]).toBe("0");
  const del = await groupsTool(["--delete", "--group", group]);
  expect(del.stdout).toContain("successful");
  const listAfter = await groupsTool(["--list"]);
  expect(listAfter.stdout.split("\n")).not.toContain(group);
}, 180_000);

test("committed offsets survive kill -9 and restart", async () => {
  const topic = `crash-g-${stamp}`;
  const group = `crash-${stamp}`;
  await createTopic(broker.bootstrap, topic, 2);
  const admin = kafka.admin();
  await admin.connect();
  await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: "0" }, { partition: 1, offset: "0" }] }).catch(() => {});
  await kcat(broker.bootstrap, ["-P", "-t", topic], { stdin: Array.from({ length: 100 }, (_, i) => `x${i}`).join("\n") + "\n" });
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.setOffsets({ groupId: group, topic, partitions: ends.map((e) => ({ partition: e.partition, offset: e.high })) });
  await admin.disconnect();
  await broker.kill9();
  await broker.restart();
  const admin2 = kafka.admin();
  await admin2.connect();
  const offsets = await admin2.fetchOffsets({ groupId: group, topics: [topic] });
  await admin2.disconnect();
  const committed = new Map(offsets[0]!.partitions.map((p) => [p.partition, p.offset]));
  for (const e of ends) expect(committed.get(e.partition)).toBe(e.high);
}, 120_000);
