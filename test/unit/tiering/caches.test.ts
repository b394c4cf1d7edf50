import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { HotCache } from "../../../src/log/hot-cache.ts";
import { PartitionLog } from "../../../src/log/partition-log.ts";
import { ChunkCache } from "../../../src/tiering/chunk-cache.ts";
import { FsObjectStore } from "../../../src/tiering/fs-object-store.ts";
import { decodeManifest, emptyManifest, encodeManifest } from "../../../src/tiering/manifest.ts";
import { buildBatch, sampleRecords } from "../log/batch-builder.ts";
import { LOG_CONFIG, tempRoot } from "./helpers.ts";

describe("hot cache (memory tier)", () => {
  test("tail reads come from memory with the same bytes as the disk", async () => {
    const root = tempRoot();
    const hot = new HotCache(1 << 20);
    const log = await PartitionLog.open(join(root, "a-0"), "a", 0, LOG_CONFIG);
    const plain = await PartitionLog.open(join(root, "b-0"), "b", 0, LOG_CONFIG);
    log.useHotCache(hot.partition());
    for (let i = 0; i < 30; i++) {
      const batch = buildBatch(sampleRecords(5, 1_700_000_000_000 + i, 50));
      await log.append(batch.slice(), Date.now()).durable;
      await plain.append(batch.slice(), Date.now()).durable;
    }
    for (let o = 0; o < 150; o += 3) {
      for (const max of [1, 300, 2000, 1 << 20]) {
        const a = log.read(o, max).records ?? new Uint8Array(0);
        const b = plain.read(o, max).records ?? new Uint8Array(0);
        // The hot cache may span segment boundaries where the disk read stops: compare the common prefix.
        const n = Math.min(a.length, b.length);
        expect(n).toBeGreaterThan(0);
        expect(Buffer.compare(Buffer.from(a.subarray(0, n)), Buffer.from(b.subarray(0, n)))).toBe(0);
      }
    }
    expect(hot.stats().hits).toBeGreaterThan(0);
    expect(hot.stats().misses).toBe(0);
    await log.close();
    await plain.close();
    expect(hot.stats().bytes).toBe(0);
  });

  test("the pool is shared fairly: a busy partition cannot evict a quiet one's tail", () => {
    const hot = new HotCache(20_000);
    const busy = hot.partition();
    const quiet = hot.partition();
    const batch = (base: number) => {
      const b = buildBatch(sampleRecords(1, 0, 900), { baseOffset: base });
      return { buf: b, batches: [{ baseOffset: base, lastOffset: base, position: 0, length: b.length }] };
    };
    for (let i = 0; i < 3; i++) {
      const q = batch(i);
      quiet.append(q.buf, q.batches);
    }
    for (let i = 0; i < 200; i++) {
      const b = batch(i);
      busy.append(b.buf, b.batches);
    }
    expect(hot.stats().bytes).toBeLessThanOrEqual(20_000);
    expect(quiet.read(0, 1 << 20, 3)).not.toBeNull();
    expect(busy.read(0, 1 << 20, 200)).toBeNull(); // its old batches went
    expect(busy.read(199, 1 << 20, 200)).not.toBeNull();
  });
});

describe("chunk cache", () => {
  test("ranged reads across chunks, LRU bound, shared in-flight loads", async () => {
    const data = new Uint8Array(10_000).map((_, i) => i % 251);
    let loads = 0;
    const cache = new ChunkCache(3000, 1000, async (_k, start, length) => {
      loads++;
      await Bun.sleep(1);
      return data.slice(start, start + length);
    });
    const [a, b] = await Promise.all([cache.read("k", data.length, 950, 100), cache.read("k", data.length, 990, 20)]);
    expect(a).toEqual(data.slice(950, 1050));
    expect(b).toEqual(data.slice(990, 1010));
    expect(loads).toBe(2);
    expect(await cache.read("k", data.length, 9990, 100)).toEqual(data.slice(9990));
    await cache.read("k", data.length, 5000, 2500);
    expect(cache.stats().bytes).toBeLessThanOrEqual(3000);
  });
});

describe("fs object store and manifest", () => {
  test("put / getRange / list / delete are idempotent; temp files are swept by init", async () => {
    const root = tempRoot();
    const store = new FsObjectStore(join(root, "store"));
    await store.init();
    await store.put("p/a/1", new Uint8Array([1, 2, 3, 4]));
    await store.put("p/a/1", new Uint8Array([1, 2, 3, 4]));
    expect(await store.getRange("p/a/1", 1, 2)).toEqual(new Uint8Array([2, 3]));
    expect(await store.getRange("p/a/1", 3, 10)).toEqual(new Uint8Array([4]));
    await expect(store.getRange("p/missing", 0, 1)).rejects.toThrow("not found");
    expect(await store.get("p/missing")).toBeNull();
    await Bun.write(join(root, "store", "p", "a", "2.upload-1-1"), "partial");
    expect((await store.list("p/")).map((o) => o.key)).toEqual(["p/a/1"]);
    await store.init();
    await store.delete("p/a/1");
    await store.delete("p/a/1");
    expect(await store.list("p/")).toEqual([]);
    await expect(store.put("../escape", new Uint8Array(1))).rejects.toThrow("invalid object key");
  });

  test("manifest round trip and validation", () => {
    const m = emptyManifest("t", "id", 3);
    m.segments.push({ baseOffset: 0, endOffset: 10, size: 100, indexSize: 8, timeIndexSize: 12, maxTimestamp: 5, offsetOfMaxTimestamp: 4, uploadedAtMs: 1 });
    expect(decodeManifest(encodeManifest(m))).toEqual(m);
    const bad = { ...m, segments: [...m.segments, { ...m.segments[0]!, baseOffset: 5, endOffset: 20 }] };
    expect(() => decodeManifest(encodeManifest(bad))).toThrow("overlap");
  });
});
