// The official Java client (kafka-clients 4.x, via test/clients/java) and Kafka's
// own kafka-topics tool (org.apache.kafka.tools.TopicCommand) against the broker.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestBroker, type BrokerHandle } from "../support/broker.ts";
import { javaClient, topicCommand } from "../support/tools.ts";

let broker: BrokerHandle;

beforeAll(async () => {
  broker = await startTestBroker();
}, 120_000);

afterAll(async () => {
  await broker?.stop();
}, 60_000);

describe("Java client", () => {
  test(
    "ProduceConsume: 100,000 records on 6 partitions, idempotent producer, verified read-back",
    async () => {
      const topic = `java-pc-${Date.now()}`;
      const { summary, lines } = await javaClient(
        "ProduceConsume",
        broker.bootstrap,
        ["--topic", topic, "--records", "100000", "--partitions", "6"],
        { timeoutMs: 300_000 },
      );
      expect(summary.produced).toBe(100_000);
      expect(summary.consumed).toBe(100_000);
      const produced = lines.find((l) => l.event === "produced");
      expect(produced?.perPartition).toHaveLength(6);
      // Keys hash over all six partitions.
      for (const n of produced!.perPartition as number[]) expect(n).toBeGreaterThan(0);
    },
    300_000,
  );

  test("AdminOps: cluster, create/describe/configs/list offsets/create partitions/delete", async () => {
    const { lines } = await javaClient("AdminOps", broker.bootstrap, ["--topic", `java-admin-${Date.now()}`], {
      timeoutMs: 120_000,
    });
    const steps = lines.filter((l) => l.step).map((l) => l.step);
    expect(steps).toEqual([
      "describeCluster",
      "createTopic",
      "describeTopic",
      "describeConfigs",
      "produce",
      "listOffsets",
      "createPartitions",
      "deleteTopic",
    ]);
  }, 120_000);
});

describe("kafka-topics (TopicCommand)", () => {
  test("--create, --list, --describe, --alter --partitions", async () => {
    const topic = `topiccmd-${Date.now()}`;
    const created = await topicCommand(broker.bootstrap, [
      "--create",
      "--topic",
      topic,
      "--partitions",
      "3",
      "--replication-factor",
      "1",
      "--config",
      "retention.ms=7200000",
    ]);
    expect(created.stdout).toContain(`Created topic ${topic}.`);

    const listed = await topicCommand(broker.bootstrap, ["--list"]);
    expect(listed.stdout.split("\n")).toContain(topic);

    const described = await topicCommand(broker.bootstrap, ["--describe", "--topic", topic]);
    // Header line: Topic: T	TopicId: ...	PartitionCount: 3	ReplicationFactor: 1	Configs: ...retention.ms=7200000...
    const header = described.stdout.split("\n").find((l) => l.startsWith(`Topic: ${topic}\t`));
    expect(header).toBeDefined();
    expect(header).toContain("PartitionCount: 3");
    expect(header).toContain("ReplicationFactor: 1");
    expect(header).toContain("retention.ms=7200000");
    const partitionLines = () =>
      described.stdout.split("\n").filter((l) => /^\s+Topic: \S+\s+Partition: \d+/.test(l));
    expect(partitionLines()).toHaveLength(3);
    for (const l of partitionLines()) expect(l).toMatch(/Leader: \d+\s+Replicas: \d+\s+Isr: \d+/);

    await topicCommand(broker.bootstrap, ["--alter", "--topic", topic, "--partitions", "5"]);
    const after = await topicCommand(broker.bootstrap, ["--describe", "--topic", topic]);
    expect(after.stdout).toContain("PartitionCount: 5");
    const parts = after.stdout
      .split("\n")
      .map((l) => /^\s+Topic: \S+\s+Partition: (\d+)\s+Leader: (\d+)/.exec(l))
      .filter((m) => m !== null)
      .map((m) => Number(m![1]));
    expect(parts.sort()).toEqual([0, 1, 2, 3, 4]);

    // Creating it again fails with a clear error and a non-zero exit.
    const again = await topicCommand(
      broker.bootstrap,
      ["--create", "--topic", topic, "--partitions", "1", "--replication-factor", "1"],
      { allowFailure: true },
    );
    expect(again.exitCode).not.toBe(0);
    expect(again.stdout + again.stderr).toContain("already exists");
  }, 120_000);
});
