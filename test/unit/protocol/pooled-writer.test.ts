import { describe, expect, test } from "bun:test";
import { BufferPool, Writer, ZERO_COPY_THRESHOLD } from "../../../src/protocol/writer.ts";
import { frameResponse } from "../../../src/broker/dispatch.ts";
import { fetchHandler } from "../../../src/handlers/01-fetch.ts";
import type { ApiHandler, RequestContext } from "../../../src/handlers/handler.ts";
import { responsePool } from "../../../src/net/connection.ts";
import { writeFetchResponse, type FetchResponse } from "../../../src/protocol/generated/fetch-response.ts";
import { responseHeaderVersion } from "../../../src/protocol/header.ts";
import { Prng } from "../../support/load.ts";

const concat = (chunks: Uint8Array[]) => Buffer.concat(chunks);

/** Uniform in [0, 1) from the project's seeded PRNG (test/support/load.ts), so runs repeat. */
function rng(seed: number): () => number {
  const prng = new Prng(seed);
  return () => prng.u32() / 4294967296;
}

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + seed * 7) & 0xff;
  return b;
}

/** A random sequence of writes, replayed on any writer. */
function script(seed: number): (w: Writer) => void {
  const r = rng(seed);
  const ops: Array<(w: Writer) => void> = [];
  const n = 50 + Math.floor(r() * 400);
  for (let i = 0; i < n; i++) {
    const k = Math.floor(r() * 7);
    const v = Math.floor(r() * 2 ** 31);
    if (k === 0) ops.push((w) => w.int32(v));
    else if (k === 1) ops.push((w) => w.uvarint(v));
    else if (k === 2) ops.push((w) => w.compactString(`s${v}`));
    else if (k === 3) ops.push((w) => w.int64(v * 1000));
    else if (k === 4) {
      const b = bytes(Math.floor(r() ** 3 * 200_000), v);
      ops.push((w) => w.compactNullableBytes(b));
    } else if (k === 5) {
      const b = bytes(Math.floor(r() * 300), v);
      ops.push((w) => {
        const h = w.startTaggedField(v & 0xff);
        w.raw(b);
        w.endTaggedField(h);
      });
    } else {
      ops.push((w) => {
        const h = w.reserveInt32();
        w.compactString("patched");
        w.patchInt32(h, v);
      });
    }
  }
  return (w) => {
    for (const op of ops) op(w);
  };
}

describe("BufferPool", () => {
  test("reuses released blocks by size class and never hands out a leased one", () => {
    const pool = new BufferPool(1024, 1 << 20, 1 << 22);
    const a = pool.acquire(1000);
    const b = pool.acquire(1000);
    expect(a.length).toBe(1024);
    expect(a.buffer).not.toBe(b.buffer);
    expect(pool.owns(a.subarray(10, 20))).toBe(true);
    pool.release(a.subarray(5));
    pool.release(a); // idempotent
    expect(pool.owns(a)).toBe(false);
    const c = pool.acquire(700);
    expect(c.buffer).toBe(a.buffer);
    const d = pool.acquire(1024);
    expect(d.buffer).not.toBe(a.buffer);
    expect(d.buffer).not.toBe(b.buffer);
    expect(pool.acquire(3000).length).toBe(4096);
    expect(pool.stats.reused).toBe(1);
  });

  test("oversized requests are unpooled; the free lists are bounded", () => {
    const pool = new BufferPool(1024, 4096, 4096);
    const big = pool.acquire(5000);
    expect(pool.owns(big)).toBe(false);
    const blocks = [pool.acquire(4096), pool.acquire(4096)];
    pool.releaseChunks(blocks);
    expect(pool.stats.released).toBe(2);
    const again = [pool.acquire(4096), pool.acquire(4096)];
    expect(pool.stats.reused).toBe(1); // only one fitted under maxFreeBytes
    expect(again[0]!.buffer).not.toBe(again[1]!.buffer);
  });
});

describe("pooled writer", () => {
  test("output is byte-identical to an unpooled writer (random write sequences)", () => {
    const pool = new BufferPool(1024, 1 << 20);
    const smallBlocks = new BufferPool(1024, 2048); // lots of chaining
    for (let seed = 1; seed <= 60; seed++) {
      const run = script(seed);
      const plain = new Writer(256);
      run(plain);
      const expected = plain.toBytes();
      for (const [cap, threshold] of [
        [16, ZERO_COPY_THRESHOLD],
        [4096, 64 * 1024],
        [1 << 20, 1 << 30],
      ] as const) {
        for (const p of [pool, smallBlocks]) {
          const w = new Writer(cap, { pool: p, zeroCopyThreshold: threshold });
          run(w);
          const chunks = w.toChunks();
          expect(Buffer.compare(concat(chunks), Buffer.from(expected))).toBe(0);
          expect(chunks.every((c) => c.length > 0)).toBe(true);
          p.releaseChunks(chunks);
        }
      }
    }
  });

  test("a full pooled block is chained, not copied; blocks nothing points into go back", () => {
    const pool = new BufferPool(1024, 1 << 20);
    const run = (w: Writer) => {
      w.raw(new Uint8Array(1000).fill(1));
      w.raw(new Uint8Array(1000).fill(2)); // the first block is full: a second one, no copy
      const h = w.startTaggedField(3);
      w.raw(new Uint8Array(3000).fill(3)); // a tagged body stays contiguous: copy-on-grow
      w.endTaggedField(h);
    };
    const w = new Writer(1024, { pool });
    run(w);
    const chunks = w.toChunks();
    expect(chunks.map((c) => c.length)).toEqual([1000, 1000 + 1 + 2 + 3000]);
    expect(pool.stats.acquired).toBe(3);
    expect(pool.stats.released).toBe(1); // the second block, copied into a larger one
    expect(chunks.every((c) => pool.owns(c))).toBe(true);
    const plain = new Writer(16);
    run(plain);
    expect(Buffer.compare(concat(chunks), Buffer.from(plain.toBytes()))).toBe(0);
    pool.releaseChunks(chunks);
    expect(pool.stats.released).toBe(3);

    const empty = new Writer(1024, { pool });
    empty.raw(new Uint8Array(5000)); // does not fit the first block, which holds nothing yet
    expect(pool.stats.released).toBe(4);
    expect(empty.toChunks().length).toBe(1);
  });

  test("a pooled writer starts in at most one largest block and chains past it", () => {
    const pool = new BufferPool(1024, 4096);
    const w = new Writer(1 << 20, { pool });
    for (let i = 0; i < 100; i++) w.compactString("x".repeat(100 + i));
    const chunks = w.toChunks();
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.every((c) => pool.owns(c) && c.buffer.byteLength <= 4096)).toBe(true);
    const plain = new Writer(16);
    for (let i = 0; i < 100; i++) plain.compactString("x".repeat(100 + i));
    expect(Buffer.compare(concat(chunks), Buffer.from(plain.toBytes()))).toBe(0);
  });

  test("small writers take no pooled memory", () => {
    const pool = new BufferPool(1024, 1 << 20);
    const w = new Writer(64, { pool });
    w.raw(new Uint8Array(500));
    expect(pool.stats.acquired).toBe(0);
    expect(pool.owns(w.toChunks()[0]!)).toBe(false);
  });
});

describe("frameResponse (Fetch)", () => {
  function fetchResponse(seed: number, partitions: number, version: number): FetchResponse {
    const r = rng(seed);
    return {
      throttleTimeMs: seed,
      errorCode: 0,
      sessionId: seed * 3,
      responses: [0, 1].map((t) => ({
        topic: `topic-${t}-é`,
        topicId: "0123456789abcdef0123456789abcdef",
        partitions: Array.from({ length: partitions }, (_, p) => {
          const kind = r();
          const size = kind < 0.1 ? 0 : kind < 0.8 ? Math.floor(r() * 3000) : kind < 0.95 ? 9000 + Math.floor(r() * 60_000) : 70_000 + Math.floor(r() * 200_000);
          return {
            partitionIndex: p,
            errorCode: kind < 0.05 ? 1 : 0,
            highWatermark: 1_000_000 * p + seed,
            lastStableOffset: 1_000_000 * p,
            logStartOffset: p,
            abortedTransactions: kind > 0.9 ? [{ producerId: 7, firstOffset: 9 }] : null,
            preferredReadReplica: -1,
            currentLeader: kind > 0.5 && kind < 0.55 ? { leaderId: 1, leaderEpoch: 2 } : undefined,
            records: kind < 0.02 ? null : bytes(size, seed + p),
          };
        }),
      })),
      nodeEndpoints: version >= 16 ? [{ nodeId: 1, host: "broker.example", port: 9092, rack: null }] : [],
    };
  }

  /** Today's framing with a plain writer: the reference every pooled response must equal. */
  function reference(version: number, correlationId: number, res: FetchResponse): Uint8Array {
    const w = new Writer(256);
    const size = w.reserveInt32();
    w.int32(correlationId);
    if (responseHeaderVersion(1, version) >= 1) w.uvarint(0);
    writeFetchResponse(w, version, res);
    w.patchInt32(size, w.byteLength - 4);
    return w.toBytes();
  }

  test("byte-identical to the plain framing, across versions and record sizes", () => {
    for (const version of [4, 11, 12, 13, 16, 17]) {
      for (let seed = 1; seed <= 6; seed++) {
        const res = fetchResponse(seed, seed * 40, version);
        const ctx = { apiVersion: version, correlationId: seed * 11 } as unknown as RequestContext;
        const out = frameResponse(fetchHandler as unknown as ApiHandler, ctx, res);
        if (!Array.isArray(out)) throw new Error("expected chunks");
        expect(Buffer.compare(concat(out), Buffer.from(reference(version, seed * 11, res)))).toBe(0);
        responsePool.releaseChunks(out);
      }
    }
  });

  test("a response whose records fit is one pooled chunk, pre-sized (no copy-on-grow)", () => {
    const res = fetchResponse(3, 1000, 12);
    for (const t of res.responses) for (const p of t.partitions) p.records = bytes(2048, p.partitionIndex);
    const before = { ...responsePool.stats };
    const out = frameResponse(fetchHandler as unknown as ApiHandler, { apiVersion: 12, correlationId: 1 } as unknown as RequestContext, res);
    if (!Array.isArray(out)) throw new Error("expected chunks");
    expect(out.length).toBe(1);
    expect(responsePool.owns(out[0]!)).toBe(true);
    expect(responsePool.stats.acquired - before.acquired).toBe(1);
    responsePool.releaseChunks(out);
  });
});
