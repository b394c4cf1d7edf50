// Tenant file edits made while the broker runs (bun run tenants -- assign ...) apply within a second.
import { expect, test } from "bun:test";
import * as C from "../../../src/client/codecs.ts";
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
