import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SampledRate, throttleTimeMs } from "../../../src/quota/sampled-rate.ts";
import { resolveQuota, candidateEntities } from "../../../src/quota/resolution.ts";
import { entityKey, type QuotaEntity, type QuotaValues } from "../../../src/quota/entity.ts";
import { QuotaStore } from "../../../src/quota/quota-store.ts";
import { QuotaManager } from "../../../src/quota/quota-manager.ts";
import { DEFAULT_QUOTA_CONFIG } from "../../../src/quota/quota-config.ts";
import { checkAlterRequest } from "../../../src/quota/alter.ts";
import { checkFilter, matchesFilter } from "../../../src/quota/describe.ts";
import { Backpressure } from "../../../src/quota/backpressure.ts";
import { ConnectionQuotas } from "../../../src/quota/connection-quotas.ts";

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "bunka-quota-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("SampledRate", () => {
  test("rate divides by at least (n-1) windows", () => {
    const r = new SampledRate(11, 1000);
    r.record(10_000, 100_000);
    expect(r.spanMs(100_000)).toBe(10_000);
    expect(r.rate(100_000)).toBe(1000);
  });
  test("span grows to the oldest live sample and old samples expire", () => {
    const r = new SampledRate(11, 1000);
    for (let t = 0; t <= 10_500; t += 500) r.record(100, 100_000 + t);
    expect(r.total(110_500)).toBe(2200);
    expect(r.spanMs(110_500)).toBe(10_500);
    expect(r.total(111_000)).toBe(2200 - 200); // the window starting at 100 000 fell out
    expect(r.idle(130_000)).toBe(true);
  });
  test("KIP-219 throttle time: (rate - quota) / quota * span", () => {
    const r = new SampledRate(11, 1000);
    r.record(20_000, 50_000); // 2000/s over a 10 s span
    expect(throttleTimeMs(r, 1000, 50_000, 11_000)).toBe(10_000);
    expect(throttleTimeMs(r, 4000, 50_000, 11_000)).toBe(0);
    expect(throttleTimeMs(r, 100, 50_000, 11_000)).toBe(11_000); // capped
    expect(throttleTimeMs(r, Infinity, 50_000, 11_000)).toBe(0);
  });
});

describe("resolution order", () => {
  const order = candidateEntities("u", "c").map(entityKey);
  test("eight candidates, most specific first", () => {
    expect(order.length).toBe(8);
    expect(candidateEntities("u", "c")[0]).toEqual({ user: "u", clientId: "c" });
    expect(candidateEntities("u", "c")[7]).toEqual({ clientId: null });
  });
  test("each level wins over every later one", () => {
    const all = candidateEntities("u", "c");
    for (let i = 0; i < all.length; i++) {
      const m = new Map<string, QuotaValues>();
      for (let j = i; j < all.length; j++) m.set(entityKey(all[j]!), { producer_byte_rate: 100 + j });
      const r = resolveQuota((e: QuotaEntity) => m.get(entityKey(e)), "u", "c", "producer_byte_rate");
      expect(r.limit).toBe(100 + i);
    }
  });
  test("sensor sharing follows the matched entity", () => {
    const m = new Map<string, QuotaValues>([[entityKey({ user: null }), { producer_byte_rate: 5 }]]);
    const a = resolveQuota((e) => m.get(entityKey(e)), "alice", "x", "producer_byte_rate");
    const b = resolveQuota((e) => m.get(entityKey(e)), "alice", "y", "producer_byte_rate");
    const c = resolveQuota((e) => m.get(entityKey(e)), "bob", "x", "producer_byte_rate");
    expect(a.sensorKey).toBe(b.sensorKey); // same user, any client: one budget
    expect(a.sensorKey).not.toBe(c.sensorKey); // default user quota: a budget per user
    expect(resolveQuota(() => undefined, "u", "c", "producer_byte_rate").limit).toBe(Infinity);
  });
});

describe("QuotaStore", () => {
  test("persists across reopen, removes emptied entities", async () => {
    const dir = tmp();
    const s = QuotaStore.open(dir);
    s.apply({ user: "alice", clientId: null }, { producer_byte_rate: 1000, consumer_byte_rate: 2000 });
    s.apply({ clientId: "c1" }, { request_percentage: 12.5 });
    s.apply({ ip: "10.0.0.1" }, { connection_creation_rate: 3 });
    await s.save();
    const r = QuotaStore.open(dir);
    expect(r.get({ user: "alice", clientId: null })).toEqual({ producer_byte_rate: 1000, consumer_byte_rate: 2000 });
    expect(r.get({ user: "alice" })).toBeUndefined();
    expect(r.get({ clientId: "c1" })).toEqual({ request_percentage: 12.5 });
    r.apply({ clientId: "c1" }, { request_percentage: null });
    await r.save();
    expect(QuotaStore.open(dir).all().length).toBe(2);
  });
});

describe("AlterClientQuotas validation", () => {
  const one = (entity: { entityType: string; entityName: string | null }[], ops: { key: string; value: number; remove: boolean }[]) =>
    checkAlterRequest([{ entity, ops }])[0]!;
  const set = (key: string, value: number) => ({ key, value, remove: false });
  test("accepts the Kafka keys on user/client-id and ip entities", () => {
    expect(one([{ entityType: "user", entityName: "a" }, { entityType: "client-id", entityName: null }], [set("producer_byte_rate", 1024), set("request_percentage", 50.5)]).ok).toBe(true);
    expect(one([{ entityType: "ip", entityName: "127.0.0.1" }], [set("connection_creation_rate", 5)]).ok).toBe(true);
    expect(one([{ entityType: "ip", entityName: null }], [{ key: "connection_creation_rate", value: 0, remove: true }]).ok).toBe(true);
  });
  const bad: [string, { entityType: string; entityName: string | null }[], { key: string; value: number; remove: boolean }[]][] = [
    ["empty entity", [], [set("producer_byte_rate", 1)]],
    ["unknown type", [{ entityType: "group", entityName: "g" }], [set("producer_byte_rate", 1)]],
    ["type twice", [{ entityType: "user", entityName: "a" }, { entityType: "user", entityName: "b" }], [set("producer_byte_rate", 1)]],
    ["ip with user", [{ entityType: "ip", entityName: "1.2.3.4" }, { entityType: "user", entityName: "b" }], [set("connection_creation_rate", 1)]],
    ["bad ip", [{ entityType: "ip", entityName: "not-an-ip" }], [set("connection_creation_rate", 1)]],
    ["unknown key", [{ entityType: "user", entityName: "a" }], [set("producer_rate", 1)]],
    ["ip key on user", [{ entityType: "user", entityName: "a" }], [set("connection_creation_rate", 1)]],
    ["byte key on ip", [{ entityType: "ip", entityName: "1.2.3.4" }], [set("producer_byte_rate", 1)]],
    ["negative", [{ entityType: "user", entityName: "a" }], [set("producer_byte_rate", -5)]],
    ["fraction of bytes", [{ entityType: "user", entityName: "a" }], [set("consumer_byte_rate", 1.5)]],
    ["key twice", [{ entityType: "user", entityName: "a" }], [set("producer_byte_rate", 1), set("producer_byte_rate", 2)]],
  ];
  for (const [name, entity, ops] of bad) {
    test(`INVALID_REQUEST: ${name}`, () => {
      const r = one(entity, ops);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.errorCode).toBe(42);
    });
  }
  test("the same entity twice in one request", () => {
    const e = [{ entityType: "client-id", entityName: "x" }];
    const r = checkAlterRequest([{ entity: e, ops: [set("producer_byte_rate", 1)] }, { entity: e, ops: [set("consumer_byte_rate", 1)] }]);
    expect(r[0]!.ok).toBe(true);
    expect(r[1]!.ok).toBe(false);
  });
});

describe("DescribeClientQuotas filters", () => {
  test("match types and strictness", () => {
    const ent: QuotaEntity = { user: "a", clientId: null };
    expect(matchesFilter(ent, [{ entityType: "user", matchType: 0, match: "a" }], false)).toBe(true);
    expect(matchesFilter(ent, [{ entityType: "user", matchType: 0, match: "a" }], true)).toBe(false);
    expect(matchesFilter(ent, [{ entityType: "client-id", matchType: 1, match: null }], false)).toBe(true);
    expect(matchesFilter(ent, [{ entityType: "client-id", matchType: 2, match: null }], false)).toBe(false);
    expect(matchesFilter(ent, [], false)).toBe(true);
    expect(matchesFilter(ent, [], true)).toBe(false);
    expect(checkFilter([{ entityType: "user", matchType: 0, match: null }])).not.toBeNull();
    expect(checkFilter([{ entityType: "user", matchType: 1, match: "x" }])).not.toBeNull();
    expect(checkFilter([{ entityType: "user", matchType: 7, match: null }])).not.toBeNull();
    expect(checkFilter([{ entityType: "topic", matchType: 2, match: null }])).not.toBeNull();
  });
});

describe("QuotaManager", () => {
  test("throttles a client-id over its produce quota, not another client", () => {
    const s = QuotaStore.open(tmp());
    s.apply({ clientId: "slow" }, { producer_byte_rate: 1000 });
    const m = new QuotaManager(s, DEFAULT_QUOTA_CONFIG);
    expect(m.record("produce", "ANONYMOUS", "slow", 5000, 100_000)).toBe(1000); // window cap: 5000 B > 1 s of quota -> rest of the window
    expect(m.record("produce", "ANONYMOUS", "other", 900, 100_000)).toBe(0);
    expect(m.record("produce", "ANONYMOUS", "slow", 10_000, 100_100)).toBe(5000); // 1500/s: (1500-1000)/1000 * 10 s
    expect(m.record("produce", "ANONYMOUS", "fast", 10_000_000, 100_100)).toBe(0);
  });
  test("request_percentage counts handler ms / 10", () => {
    const s = QuotaStore.open(tmp());
    s.apply({ user: null }, { request_percentage: 10 }); // 100 ms of handler time per second
    const m = new QuotaManager(s, DEFAULT_QUOTA_CONFIG);
    expect(m.record("request", "u", "c", 500 / 10, 100_000)).toBe(0);
    expect(m.record("request", "u", "c", 1500 / 10, 100_000)).toBe(10_000);
  });
});

describe("Backpressure", () => {
  test("below the threshold nothing shrinks; above it tenants get capacity in proportion to their weight", () => {
    const bp = new Backpressure(1000, 0.8, 11, 1000, 11_000);
    const weights: Record<string, number> = { a: 300, b: Infinity };
    const w = (t: string) => weights[t] ?? Infinity;
    expect(bp.record("a", 5000, 100_000, w)).toBe(0); // 500/s < 800/s
    bp.record("b", 4000, 100_000, w); // broker 900/s >= 800/s
    // weights: a 300, b capped at capacity 1000 -> a gets 1000*300/1300, b 1000*1000/1300
    expect(bp.effectiveLimit("a", 100_000, w)).toBeCloseTo(230.77, 1);
    expect(bp.effectiveLimit("b", 100_000, w)).toBeCloseTo(769.23, 1);
    expect(bp.record("a", 0, 100_000, w)).toBeGreaterThan(0); // a at 500/s is over its 230/s share
  });
});

describe("ConnectionQuotas", () => {
  test("count limits, per-ip rate, broker-wide rate delay", () => {
    const cq = new ConnectionQuotas({ ...DEFAULT_QUOTA_CONFIG, maxConnections: 3, maxConnectionsPerIp: 2, maxConnectionCreationRate: 0.15 }, (ip) => (ip === "9.9.9.9" ? 0.05 : Infinity));
    const now = 100_000;
    expect(cq.admit("1.1.1.1", now)).toEqual({ admit: true, delayMs: 0 });
    const second = cq.admit("1.1.1.1", now);
    expect(second.admit && second.delayMs > 0).toBe(true); // 2 per 10 s span > 0.15/s
    expect(cq.admit("1.1.1.1", now).admit).toBe(false); // per ip
    expect(cq.admit("2.2.2.2", now).admit).toBe(true);
    expect(cq.admit("3.3.3.3", now).admit).toBe(false); // max.connections
    cq.release("1.1.1.1");
    cq.release("2.2.2.2");
    expect(cq.admit("9.9.9.9", now).admit).toBe(false); // 1 per 10 s > 0.05/s
  });
});
