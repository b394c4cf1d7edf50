// Tenant file edits made while the broker runs (bun run tenants -- assign ...) apply within a second;
// tenant topics (whose internal names contain '-' and '.') come back after a restart.
import { expect, test } from "bun:test";
import * as C from "../../../src/client/codecs.ts";
import { buildRecordBatch } from "../../../src/client/record-batch-builder.ts";
import { TenantStore } from "../../../src/tenant/tenant-store.ts";
import { openPrincipalBroker } from "./principal-broker.ts";

test("a user assigned to a tenant while the broker runs moves into the tenant's namespace", async () => {
  const pb = await openPrincipalBroker(null);
  try {
    const md = () => pb.as("dave")(C.Metadata, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    await pb.as(null)(C.CreateTopics, 7, { topics: [{ name: "global-topic", numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 1000, validateOnly: false });
    expect((await md()).topics.map((t) => t.name)).toEqual(["global-topic"]);
    const store = TenantStore.open(pb.dataDir);
    store.add("acme", 1);
    store.assign("dave", "acme");
    store.saveSync();
    await Bun.sleep(1100);
    expect((await md()).topics.map((t) => t.name)).toEqual([]);
    const created = await pb.as("dave")(C.CreateTopics, 7, { topics: [{ name: "mine", numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 1000, validateOnly: false });
    expect(created.topics[0]!.errorCode).toBe(0);
    const all = await pb.as(null)(C.Metadata, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    expect(all.topics.map((t) => t.name).sort()).toEqual(["__lc-1.mine", "global-topic"]);
  } finally {
    await pb.close();
  }
});

test("tenant topics, offsets and limits survive a broker restart", async () => {
  const first = await openPrincipalBroker(null);
  const store = TenantStore.open(first.dataDir);
  store.add("acme", 1);
  store.assign("erin", "acme");
  store.saveSync();
  const batch = buildRecordBatch([{ key: null, value: new TextEncoder().encode("kept") }]);
  await first.as("erin")(C.CreateTopics, 7, { topics: [{ name: "orders", numPartitions: 3, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 1000, validateOnly: false });
  const p = await first.as("erin")(C.Produce, 9, { acks: -1, timeoutMs: 1000, topicData: [{ name: "orders", partitionData: [{ index: 2, records: batch }] }] });
  expect(p.responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
  await first.close(true);
  const second = await openPrincipalBroker(first.dataDir);
  try {
    const md = await second.as("erin")(C.Metadata, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    expect(md.topics.map((t) => [t.name, t.partitions.length])).toEqual([["orders", 3]]);
    const lo = await second.as("erin")(C.ListOffsets, 7, { replicaId: -1, isolationLevel: 0, topics: [{ name: "orders", partitions: [{ partitionIndex: 2, currentLeaderEpoch: -1, timestamp: -1 }] }] });
    expect(lo.topics[0]!.name).toBe("orders");
    expect(lo.topics[0]!.partitions[0]!.offset).toBe(1);
  } finally {
    await second.close();
  }
});
