/**
 * Pooled response buffers must never be reused while any byte of them is still waiting for the
 * socket: many pipelined large responses through writes that take only part of what they are
 * given, every byte checked on the reading side against today's plain framing.
 */
import { describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import { frameResponse } from "../../../src/broker/dispatch.ts";
import { fetchHandler } from "../../../src/handlers/01-fetch.ts";
import type { ApiHandler, RequestContext } from "../../../src/handlers/handler.ts";
import { Connection, responsePool, type DispatchResult } from "../../../src/net/connection.ts";
import { writeFetchResponse, type FetchResponse } from "../../../src/protocol/generated/fetch-response.ts";
import { Writer } from "../../../src/protocol/writer.ts";

const VERSION = 12;

/** Response `n`: its size, chunking and every byte depend on n. */
function responseFor(n: number): FetchResponse {
  // 0 and 1: many small record sets (one pooled chunk, same size class one after the other);
  // 2: large ones mixed in (chunks of their own between pooled segments); 3: a small response
  // (coalesced); 4: a mid-sized one; 5: one larger than the largest pooled block (chained blocks).
  const kind = n % 12 === 11 ? 5 : n % 5;
  const partitions = kind === 3 ? 3 : kind === 4 ? 40 : kind === 5 ? 2200 : 300;
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: n,
    responses: [
      {
        topic: `t${n}`,
        partitions: Array.from({ length: partitions }, (_, p) => {
          const size = kind === 2 && p % 50 === 7 ? 100_000 + n : kind === 3 ? 100 : 1000 + ((n * 7 + p * 13) % 3000);
          const records = new Uint8Array(size);
          for (let i = 0; i < size; i++) records[i] = (i + n * 17 + p * 5) & 0xff;
          return {
            partitionIndex: p,
            errorCode: 0,
            highWatermark: n * 1000 + p,
            lastStableOffset: n * 1000 + p,
            logStartOffset: 0,
            abortedTransactions: null,
            preferredReadReplica: -1,
            records,
          };
        }),
      },
    ],
  };
}

function expectedBytes(n: number): Buffer {
  const w = new Writer(256);
  const size = w.reserveInt32();
  w.int32(n);
  w.uvarint(0);
  writeFetchResponse(w, VERSION, responseFor(n));
  w.patchInt32(size, w.byteLength - 4);
  return Buffer.from(w.toBytes());
}

function requestFrame(n: number): Uint8Array {
  const b = new Uint8Array(12);
  const dv = new DataView(b.buffer);
  dv.setInt32(0, 8);
  dv.setInt16(4, 1);
  dv.setInt16(6, VERSION);
  dv.setInt32(8, n);
  return b;
}

const dispatcher = {
  dispatch(frame: Uint8Array): DispatchResult {
    const n = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getInt32(4);
    const ctx = { apiVersion: VERSION, correlationId: n } as unknown as RequestContext;
    return frameResponse(fetchHandler as unknown as ApiHandler, ctx, responseFor(n));
  },
};

describe("pooled response buffers", () => {
  test("a socket that takes a few KiB per write: every byte arrives as framed today", () => {
    const received: Uint8Array[] = [];
    let budget = 0;
    let seed = 12345;
    const next = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % 200_000;
    // Copies what it accepts, as the kernel does; keeps no reference.
    const socket = {
      write(d: Uint8Array): number {
        const n = Math.min(d.length, budget);
        budget -= n;
        if (n > 0) received.push(d.slice(0, n));
        return n;
      },
      pause() {},
      resume() {},
      end() {},
      remoteAddress: "test",
    };
    const conn = new Connection(1, socket as unknown as Socket<unknown>, dispatcher, 1 << 20, (m) => {
      throw new Error(m);
    }, () => {});
    // Response 11 is larger than a pooled block: it is sent as chunks in several blocks.
    const big = dispatcher.dispatch(requestFrame(11).subarray(4));
    if (!Array.isArray(big)) throw new Error("expected chunks");
    expect(new Set(big.map((c) => c.buffer)).size).toBeGreaterThan(1);
    expect(big.every((c) => responsePool.owns(c))).toBe(true);
    responsePool.releaseChunks(big);
    const reusedBefore = responsePool.stats.reused;
    const total = 60;
    let sent = 0;
    for (let round = 0; sent < total || budget === 0; round++) {
      // A few new requests now and then, while earlier responses are still queued.
      if (sent < total && round % 3 === 0) {
        const k = Math.min(total - sent, 1 + (round % 4));
        for (let i = 0; i < k; i++) conn.onData(requestFrame(sent++));
      }
      budget = next();
      conn.onDrain();
      if (sent >= total && budget > 0) break; // the last drain had bytes to spare: all written
    }
    const expected = Buffer.concat(Array.from({ length: total }, (_, n) => expectedBytes(n)));
    const got = Buffer.concat(received);
    expect(got.length).toBe(expected.length);
    expect(Buffer.compare(got, expected)).toBe(0);
    expect(responsePool.stats.reused).toBeGreaterThan(reusedBefore); // blocks were reused meanwhile
  });

  test("a real socket with a slow reader: pipelined large responses arrive intact", async () => {
    const total = 72;
    let partialWrites = 0;
    const server = Bun.listen<{ conn?: Connection }>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open(s) {
          // Counts writes the kernel took only part of (the case that must not reuse the block).
          const counted = {
            write(d: Uint8Array): number {
              const n = s.write(d);
              if (n < d.length) partialWrites++;
              return n;
            },
            pause: () => s.pause(),
            resume: () => s.resume(),
            end: () => s.end(),
            get remoteAddress() {
              return s.remoteAddress;
            },
          };
          s.data = { conn: new Connection(1, counted as unknown as Socket<unknown>, dispatcher, 1 << 20, () => {}, () => {}) };
        },
        data: (s, d) => s.data.conn?.onData(d),
        drain: (s) => s.data.conn?.onDrain(),
        close: (s) => s.data.conn?.onClosed(),
      },
    });
    const expected = Buffer.concat(Array.from({ length: total }, (_, n) => expectedBytes(n)));
    const parts: Buffer[] = [];
    let got = 0;
    const reusedBefore = responsePool.stats.reused;
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out with ${got} of ${expected.length} bytes`)), 60_000);
        Bun.connect({
          hostname: "127.0.0.1",
          port: server.port,
          socket: {
            open(c) {
              // Requests keep coming while the reader stalls now and then, so the broker builds new
              // responses while earlier ones still sit half-written in its queue.
              let n = 0;
              let paused = false;
              const sender = setInterval(() => {
                // Bursts: the broker builds several responses in one go, the next while the previous
                // one's write fell short.
                for (let i = 0; i < 6 && n < total; i++) c.write(requestFrame(n++));
                if (n >= total) clearInterval(sender);
              }, 40);
              const staller = setInterval(() => {
                paused = !paused;
                if (paused) c.pause();
                else c.resume();
                if (n >= total && !paused) clearInterval(staller);
              }, 300);
            },
            data(_c, d) {
              parts.push(Buffer.from(d));
              got += d.length;
              if (got >= expected.length) {
                clearTimeout(timer);
                resolve();
              }
            },
            close() {
              if (got < expected.length) reject(new Error("closed early"));
            },
          },
        });
      });
    } finally {
      server.stop(true);
    }
    const all = Buffer.concat(parts);
    expect(all.length).toBe(expected.length);
    expect(Buffer.compare(all, expected)).toBe(0);
    expect(partialWrites).toBeGreaterThan(0);
    expect(responsePool.stats.reused).toBeGreaterThan(reusedBefore);
  }, 90_000);
});
