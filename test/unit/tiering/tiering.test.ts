import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { PartitionLog } from "../../../src/log/partition-log.ts";
import { readLocalManifest } from "../../../src/tiering/manifest.ts";
import { TierManager } from "../../../src/tiering/tier-manager.ts";
import { LOG_CONFIG, appendBatches, drain, openTieredLog, readAny, tempRoot, tierConfigFor, tieredSettings, type TieredLog } from "./helpers.ts";

function localLogFiles(t: TieredLog): string[] {
  return readdirSync(t.log.dir).filter((n) => n.endsWith(".log"));
}

/** Every read (several sizes, every 7th offset) as the log gives it now. */
function snapshot(t: TieredLog, sizes: number[]): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (let o = 0; o < t.log.highWatermark; o += 7) {
    for (const s of sizes) {
      const r = t.log.read(o, s);
      out.set(`${o}/${s}`, new Uint8Array(r.records ?? []));
    }
  }
  return out;
}

async function assertManifestObjectsExist(t: TieredLog): Promise<void> {
  const manifest = readLocalManifest(t.log.dir);
  const keys = new Set((await t.fs.list("")).map((o) => o.key));
  for (const s of manifest?.segments ?? []) {
    for (const kind of ["log", "index", "timeindex"]) {
      expect(keys.has(`cluster/t-TOPICID/0/${String(s.baseOffset).padStart(20, "0")}.${kind}`)).toBe(true);
    }
  }
}

describe("tiered partition log (fs store)", () => {
  test("sealed segments move to the store; reads from offset 0 are byte-identical; a reopen keeps the whole log", async () => {
    const root = tempRoot();
    const t = await openTieredLog(root);
    await appendBatches(t.log, 120);
    const sizes = [1, 700, 5000, 1 << 20];
    const before = snapshot(t, sizes);
    const tsProbes = [0, 3, 57, 123, 404, 777, 1001].map((d) => 1_700_000_000_000 + d);
    const tsBefore = tsProbes.map((ts) => t.log.offsetForTimestamp(ts));
    expect(localLogFiles(t).length).toBeGreaterThan(10);

    await drain(t);
    expect(localLogFiles(t).length).toBe(1); // local.retention.bytes=0: only the active segment stays
    expect(t.log.logStartOffset).toBe(0);
    expect(t.log.localLogStartOffset).toBeGreaterThan(0);
    const manifest = readLocalManifest(t.log.dir);
    expect(manifest?.segments.length).toBeGreaterThan(10);
    await assertManifestObjectsExist(t);

    for (const [key, expected] of before) {
      const [o, s] = key.split("/").map(Number) as [number, number];
      const got = await readAny(t, o, s);
      expect(Buffer.compare(Buffer.from(got), Buffer.from(expected))).toBe(0);
    }
    expect(t.tier.chunkCache.stats().hits).toBeGreaterThan(0);
    // Timestamp lookups inside tiered segments give the same exact answers as on disk.
    const tier = t.tier.tierOf(t.log)!;
    for (let i = 0; i < tsProbes.length; i++) {
      const expected = tsBefore[i]!;
      expect(expected).not.toBeNull();
      if (expected!.offset >= t.log.localLogStartOffset) continue;
      expect(await tier.offsetForTimestamp(tsProbes[i]!)).toEqual(expected);
    }

    await t.log.close();
    const reopened = await PartitionLog.open(join(root, "t-0"), "t", 0, LOG_CONFIG);
    expect(reopened.logStartOffset).toBeGreaterThan(0); // not tiered yet: the local view
    const tier2 = new TierManager(tierConfigFor(root), t.store, "cluster", () => {});
    tier2.attach(reopened, "TOPICID", () => t.settings);
    expect(reopened.logStartOffset).toBe(0);
    const again: TieredLog = { ...t, log: reopened, tier: tier2 };
    for (const [key, expected] of before) {
      const [o, s] = key.split("/").map(Number) as [number, number];
      expect(Buffer.compare(Buffer.from(await readAny(again, o, s)), Buffer.from(expected))).toBe(0);
    }
    await reopened.close();
  });

  test("store down: producing goes on, local segments stay past local retention, lag shows, then catches up", async () => {
    const t = await openTieredLog(tempRoot());
    await appendBatches(t.log, 20);
    t.store.down = true;
    await expect(t.tier.runOnce()).rejects.toThrow("store down");
    await appendBatches(t.log, 40);
    await t.log.applyRetention(Date.now());
    const lag = t.tier.lag();
    expect(lag.segments).toBeGreaterThan(5);
    expect(localLogFiles(t).length).toBe(lag.segments + 1);
    t.store.down = false;
    await drain(t);
    expect(t.tier.lag().segments).toBe(0);
    expect(localLogFiles(t).length).toBe(1);
    expect(new Uint8Array((await readAny(t, 0, 100)).subarray(0, 8))).toEqual(new Uint8Array(8));
  });

  test("a failed upload (or manifest copy) never leaves the manifest naming a missing object; orphans are swept at start", async () => {
    const root = tempRoot();
    const t = await openTieredLog(root);
    await appendBatches(t.log, 40);
    t.store.failPutMatching = /\.timeindex$/; // .log and .index of the first segment land, then a failure
    await expect(t.tier.runOnce()).rejects.toThrow("injected");
    expect(readLocalManifest(t.log.dir)).toBeNull();
    await assertManifestObjectsExist(t);
    // "Crash" here: a new manager sweeps the half-uploaded segment away at its first pass.
    const orphanKey = "cluster/t-TOPICID/0/00000000000000000000.log";
    expect((await t.fs.list("cluster/")).some((o) => o.key === orphanKey)).toBe(true);
    const fresh = new TierManager(tierConfigFor(root), t.store, "cluster", (m) => t.messages.push(m));
    const t2: TieredLog = { ...t, tier: fresh };
    fresh.attach(t.log, "TOPICID", () => t.settings);
    t.store.failPutMatching = /manifest$/; // the manifest copy fails after the local commit
    await expect(fresh.runOnce()).rejects.toThrow("injected");
    expect(t.messages.some((m) => m.includes("orphan"))).toBe(true);
    await assertManifestObjectsExist(t2);
    await drain(t2);
    await assertManifestObjectsExist(t2);
    const copy = await t.fs.get("cluster/t-TOPICID/0/manifest");
    expect(copy).not.toBeNull();
    // Objects of a topic the broker does not know are orphans too.
    await t.fs.put("cluster/gone-OLDID/0/00000000000000000000.log", new Uint8Array(10));
    const third = new TierManager(tierConfigFor(root), t.store, "cluster", () => {});
    third.attach(t.log, "TOPICID", () => t.settings);
    await third.runOnce();
    expect(await t.fs.get("cluster/gone-OLDID/0/00000000000000000000.log")).toBeNull();
  });

  test("retention.bytes over the whole log deletes remote segments and their objects; DeleteRecords moves the start remotely", async () => {
    const t = await openTieredLog(tempRoot());
    await appendBatches(t.log, 100);
    await drain(t);
    const objectsBefore = (await t.fs.list("cluster/")).length;
    const segsBefore = readLocalManifest(t.log.dir)?.segments.length ?? 0;
    t.settings = tieredSettings({ retentionBytes: 40_000 });
    await t.tier.runOnce();
    const manifest = readLocalManifest(t.log.dir);
    expect(manifest?.segments.length).toBeLessThan(segsBefore);
    const first = manifest?.segments[0];
    expect(t.log.logStartOffset).toBe(first?.baseOffset ?? -1);
    expect((await t.fs.list("cluster/")).length).toBeLessThan(objectsBefore);
    await assertManifestObjectsExist(t);
    expect(t.log.read(0, 100).errorCode).not.toBe(0); // OFFSET_OUT_OF_RANGE now

    // DeleteRecords into the middle of the remote part.
    const target = (manifest?.segments[2]?.baseOffset ?? 0) + 3;
    expect((await t.log.deleteRecordsBefore(target)).lowWatermark).toBe(target);
    await t.tier.runOnce();
    const after = readLocalManifest(t.log.dir);
    expect(after?.segments[0]?.baseOffset).toBe(manifest?.segments[2]?.baseOffset ?? -1);
    expect(t.log.logStartOffset).toBe(target);
    await assertManifestObjectsExist(t);
    const objects = (await t.fs.list("cluster/")).map((o) => o.key);
    expect(objects.some((k) => k.endsWith(`${String(manifest?.segments[0]?.baseOffset).padStart(20, "0")}.log`))).toBe(false);
    const got = await readAny(t, target, 100);
    expect(got.length).toBeGreaterThan(0);
    expect(existsSync(join(t.log.dir, "remote-log.manifest"))).toBe(true);
  });
});

describe("slow object store", () => {
  test("calls are bounded: a hanging store fails the pass (then backoff) while appends go on", async () => {
    const { TimeoutObjectStore } = await import("../../../src/tiering/timeout-object-store.ts");
    const root = tempRoot();
    const t = await openTieredLog(root);
    await appendBatches(t.log, 20);
    const hanging = {
      ...t.store,
      description: "hanging",
      init: () => t.store.init(),
      list: (p: string) => t.store.list(p),
      delete: (k: string) => t.store.delete(k),
      get: (k: string) => t.store.get(k),
      getRange: (k: string, s: number, l: number) => t.store.getRange(k, s, l),
      put: () => new Promise<void>(() => {}),
      putFile: () => new Promise<void>(() => {}),
    };
    const bounded = new TimeoutObjectStore(hanging, 100, 1 << 30);
    const slow = new TierManager(tierConfigFor(root), bounded, "cluster", () => {});
    slow.attach(t.log, "TOPICID", () => t.settings);
    const started = Date.now();
    await expect(slow.runOnce()).rejects.toThrow("timed out");
    expect(Date.now() - started).toBeLessThan(2000);
    await appendBatches(t.log, 10); // producing is unaffected
    await t.log.applyRetention(Date.now());
    expect(slow.lag().segments).toBeGreaterThan(1);
    expect(localLogFiles(t).length).toBe(slow.lag().segments + 1); // nothing un-uploaded was deleted
  });
});
