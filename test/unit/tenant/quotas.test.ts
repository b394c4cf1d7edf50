// Tenant quotas: the token bucket; tenant-level produce and fetch rates from the units; client-id
// quotas inside a tenant (same client id in two tenants: separate quotas, separate budgets);
// Alter/DescribeClientQuotas confined to the tenant's client ids and members; broker backpressure
// shares by units.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as C from "../../../src/client/codecs.ts";
import { codec } from "../../../src/client/wire-client.ts";
import { buildRecordBatch } from "../../../src/client/record-batch-builder.ts";
import { ErrorCode } from "../../../src/protocol/error-codes.ts";
import { writeAlterClientQuotasRequest } from "../../../src/protocol/generated/alter-client-quotas-request.ts";
import { readAlterClientQuotasResponse } from "../../../src/protocol/generated/alter-client-quotas-response.ts";
import { writeDescribeClientQuotasRequest } from "../../../src/protocol/generated/describe-client-quotas-request.ts";
import { readDescribeClientQuotasResponse, type DescribeClientQuotasResponse } from "../../../src/protocol/generated/describe-client-quotas-response.ts";
import { TokenBucket } from "../../../src/quota/token-bucket.ts";
import { QuotaManager } from "../../../src/quota/quota-manager.ts";
import { QuotaStore } from "../../../src/quota/quota-store.ts";
import { DEFAULT_QUOTA_CONFIG } from "../../../src/quota/quota-config.ts";
import { openTwoTenantBroker, type PrincipalBroker } from "./principal-broker.ts";
import { trackTempDir } from "../../support/temp-dirs.ts";

const AlterQuotas = codec(49, writeAlterClientQuotasRequest, readAlterClientQuotasResponse);
const DescribeQuotas = codec(48, writeDescribeClientQuotasRequest, readDescribeClientQuotasResponse);

test("token bucket: one second of burst, then the debt decides the wait; refills at the rate", () => {
  const b = new TokenBucket(1000, 1, 0);
  expect(b.take(1000, 0, 10_000)).toBe(0); // the burst
  expect(b.take(500, 0, 10_000)).toBe(500); // 500 in debt at 1000/s
  expect(b.take(0, 500, 10_000)).toBe(0); // repaid after 500 ms
  expect(b.take(100_000, 500, 10_000)).toBe(10_000); // capped
  expect(b.take(0, 101_000, 10_000)).toBe(0); // a 100 s debt takes 100 s to repay (the mute is capped, the debt is not)
  expect(b.take(1000, 103_000, 10_000)).toBe(0); // refilled to the burst, not beyond
  expect(b.take(1, 103_000, 10_000)).toBe(1);
});

let pb: PrincipalBroker;
const batch = buildRecordBatch([{ key: null, value: new Uint8Array(4000).fill(1) }]);

beforeAll(async () => {
  pb = await openTwoTenantBroker({ "bunka.tenant.unit.ingress.bytes.per.sec": "20000", "bunka.tenant.unit.egress.bytes.per.sec": "20000" });
  for (const user of ["alice", "bob"]) {
    await pb.as(user)(C.CreateTopics, 7, { topics: [{ name: "t", numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 1000, validateOnly: false });
  }
});

afterAll(async () => {
  await pb.close();
});

const produce = async (user: string, clientId: string) =>
  (await pb.as(user, clientId)(C.Produce, 9, { acks: 1, timeoutMs: 1000, topicData: [{ name: "t", partitionData: [{ index: 0, records: batch }] }] })).throttleTimeMs ?? 0;
const entities = (r: DescribeClientQuotasResponse) => (r.entries ?? []).map((e) => e.entity.map((c) => `${c.entityType}=${c.entityName}`).join(",")).sort();
const describeAll = { components: [], strict: false };

describe("client quotas inside tenants", () => {
  test("AlterClientQuotas: own client ids and members only; stored under the prefix", async () => {
    const res = await pb.as("alice")(AlterQuotas, 1, {
      entries: [
        { entity: [{ entityType: "client-id", entityName: "app" }], ops: [{ key: "producer_byte_rate", value: 1000, remove: false }] },
        { entity: [{ entityType: "client-id", entityName: null }], ops: [{ key: "producer_byte_rate", value: 1, remove: false }] },
        { entity: [{ entityType: "user", entityName: "bob" }], ops: [{ key: "producer_byte_rate", value: 1, remove: false }] },
        { entity: [{ entityType: "user", entityName: "alice" }, { entityType: "client-id", entityName: "app" }], ops: [{ key: "request_percentage", value: 50, remove: false }] },
      ],
      validateOnly: false,
    });
    expect(res.entries.map((e) => e.errorCode)).toEqual([0, ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST, 0]);
    expect(res.entries[1]!.errorMessage).toContain("only name its own client ids and users");
    expect(res.entries[1]!.entity).toEqual([{ entityType: "client-id", entityName: null }]);
    expect(res.entries[0]!.entity).toEqual([{ entityType: "client-id", entityName: "app" }]);
    expect(entities(await pb.as(null)(DescribeQuotas, 1, describeAll))).toEqual(["client-id=__lc-1.app", "user=alice,client-id=__lc-1.app"]);
    expect(entities(await pb.as("alice")(DescribeQuotas, 1, describeAll))).toEqual(["client-id=app", "user=alice,client-id=app"]);
    expect(entities(await pb.as("bob")(DescribeQuotas, 1, describeAll))).toEqual([]);
    const exact = await pb.as("alice")(DescribeQuotas, 1, { components: [{ entityType: "client-id", matchType: 0, match: "app" }], strict: true });
    expect(entities(exact)).toEqual(["client-id=app"]);
  });

  test("the same client id in another tenant is not held by the first tenant's client-id quota", async () => {
    let aliceThrottle = 0;
    for (let i = 0; i < 3; i++) aliceThrottle = Math.max(aliceThrottle, await produce("alice", "app"));
    expect(aliceThrottle).toBeGreaterThan(0); // 1000 B/s for acme's "app"
    expect(await produce("bob", "app")).toBe(0); // globex's "app" has no client quota
  });
});

describe("tenant-level rates from units", () => {
  test("produce beyond the unit's ingress is throttled for the whole tenant, whatever the client id", async () => {
    let throttle = 0;
    for (let i = 0; i < 8 && throttle === 0; i++) throttle = await produce("bob", `client-${i}`); // 20000 B/s, 1 s burst
    expect(throttle).toBeGreaterThan(0);
  });

  test("fetch beyond the unit's egress is throttled", async () => {
    // acks=all: answered once the log is flushed, so the high watermark covers every batch written so far.
    const p = await pb.as("alice", "writer")(C.Produce, 9, { acks: -1, timeoutMs: 1000, topicData: [{ name: "t", partitionData: [{ index: 0, records: batch }] }] });
    expect(p.responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
    let throttle = 0;
    for (let i = 0; i < 10 && throttle === 0; i++) {
      const res = await pb.as("alice", "reader")(C.Fetch, 12, {
        maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
        topics: [{ topic: "t", partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }], forgottenTopicsData: [], rackId: "",
      });
      expect(res.responses[0]!.partitions[0]!.records?.length ?? 0).toBeGreaterThan(0);
      throttle = res.throttleTimeMs ?? 0;
    }
    expect(throttle).toBeGreaterThan(0);
  });
});

test("broker backpressure splits the capacity between tenants by their units", () => {
  const m = new QuotaManager(QuotaStore.open(trackTempDir(mkdtempSync(join(tmpdir(), "bunka-tenant-bp-")))), { ...DEFAULT_QUOTA_CONFIG, ingressCapacity: 3000, threshold: 0 });
  const small = { id: "1", clientIdPrefix: "__lc-1.", produceBytesPerSec: 1000, fetchBytesPerSec: 1000, requestsPerSec: 100 };
  const big = { id: "2", clientIdPrefix: "__lc-2.", produceBytesPerSec: 3000, fetchBytesPerSec: 3000, requestsPerSec: 100 };
  const now = 1_000_000;
  m.record("produce", "u1", "c", 1, now, small);
  m.record("produce", "u2", "c", 1, now, big);
  // Shares: 3000 x 1/4 = 750 B/s and 3000 x 3/4 = 2250 B/s; 8000 B over the 10 s span is 800 B/s,
  // within the small tenant's own 1000 B/s but over its share.
  expect(m.record("produce", "u1", "c", 8000, now, small)).toBeGreaterThan(0);
  expect(m.record("produce", "u2", "c", 8000, now, big)).toBe(0);
});
