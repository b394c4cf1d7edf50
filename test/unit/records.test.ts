// The v2 records section codec (src/protocol/records.ts), checked against the independent
// test encoder in test/unit/log/batch-builder.ts and against malformed input.
import { describe, expect, test } from "bun:test";
import { decodeRecords, encodeRecords, scanRecords } from "../../src/protocol/records.ts";
import type { KafkaRecord } from "../../src/protocol/records.ts";
import { buildBatch, encodeRecord, sampleRecords } from "./log/batch-builder.ts";
import type { TestRecord } from "./log/batch-builder.ts";

const T0 = 1_700_000_000_000;
const dec = new TextDecoder();
const str = (b: Uint8Array | null): string | null => (b === null ? null : dec.decode(b));

function sectionOf(records: TestRecord[]): Uint8Array {
  return buildBatch(records).subarray(61);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe("decode", () => {
  test("keys, values, headers, nulls, timestamp and offset deltas", () => {
    const input: TestRecord[] = [
      { key: "k0", value: "v0", headers: [["h1", "x"], ["h2", "y"]], timestamp: T0 },
      { key: null, value: null, timestamp: T0 - 5 },
      { key: "", value: "", headers: [], timestamp: T0 + 123_456_789 },
      { key: "ü-ключ", value: "x".repeat(70_000), timestamp: T0 + 1 },
    ];
    const section = sectionOf(input);
    const r = decodeRecords(section, 4);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const got = r.value;
    expect(got.map((x) => x.offsetDelta)).toEqual([0, 1, 2, 3]);
    expect(got.map((x) => x.timestampDelta)).toEqual([0, -5, 123_456_789, 1]);
    expect(got.map((x) => str(x.key))).toEqual(["k0", null, "", "ü-ключ"]);
    expect(got.map((x) => str(x.value))).toEqual(["v0", null, "", "x".repeat(70_000)]);
    expect(got[0]!.headers.map((h) => [str(h.key), str(h.value)])).toEqual([["h1", "x"], ["h2", "y"]]);
    // Views, not copies.
    expect(got[3]!.value!.buffer).toBe(section.buffer);
    const scan = scanRecords(section, 4);
    expect(scan).toEqual({ ok: true, value: { count: 4, maxTimestampDelta: 123_456_789, firstBadOffsetDelta: -1 } });
  });

  test("encode is the exact inverse of decode", () => {
    const section = sectionOf(sampleRecords(50, T0, 100));
    const r = decodeRecords(section, 50);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(Buffer.from(encodeRecords(r.value)).equals(Buffer.from(section))).toBe(true);
  });

  test("encode then decode of hand-made records; large varints", () => {
    const e = new TextEncoder();
    const recs: KafkaRecord[] = [
      { attributes: 0, timestampDelta: 2 ** 40, offsetDelta: 0, key: e.encode("a"), value: null, headers: [{ key: e.encode("k"), value: null }] },
      { attributes: 0, timestampDelta: -(2 ** 40), offsetDelta: 1, key: null, value: new Uint8Array(300), headers: [] },
    ];
    const r = decodeRecords(encodeRecords(recs), 2);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.map((x) => x.timestampDelta)).toEqual([2 ** 40, -(2 ** 40)]);
    expect(r.value[0]!.headers[0]!.value).toBeNull();
    expect(r.value[1]!.value!.length).toBe(300);
  });

  test("non-contiguous offset deltas are reported, not refused", () => {
    const a = encodeRecord({ key: "a", value: "1" }, 0, T0);
    const b = encodeRecord({ key: "b", value: "2" }, 5, T0);
    const scan = scanRecords(concat(a, b), 2);
    expect(scan.ok && scan.value.firstBadOffsetDelta).toBe(1);
  });
});

describe("malformed sections are refused with a message, never thrown", () => {
  const good = sectionOf(sampleRecords(3));

  function refused(section: Uint8Array, count: number, pattern: RegExp): void {
    const s = scanRecords(section, count);
    const d = decodeRecords(section, count);
    expect(s.ok).toBe(false);
    expect(d.ok).toBe(false);
    if (!s.ok) expect(s.message).toMatch(pattern);
  }

  test("count mismatch both ways", () => {
    refused(good, 2, /remain after the 2 declared records/);
    refused(good, 4, /declares 4 records but holds 3/);
    refused(good, 1_000_000, /cannot hold them/);
    refused(new Uint8Array(0), 1, /cannot hold/);
    expect(scanRecords(new Uint8Array(0), 0).ok).toBe(true);
  });

  test("every truncation of a valid section fails", () => {
    for (let cut = 1; cut < good.length; cut++) {
      expect(scanRecords(good.subarray(0, cut), 3).ok).toBe(false);
    }
  });

  test("record length lying in either direction", () => {
    const rec = encodeRecord({ key: "k", value: "value" }, 0, T0);
    const longer = rec.slice();
    longer[0] = longer[0]! + 2; // claims one more byte than it has (zig-zag: +1 byte = +2)
    refused(concat(longer, new Uint8Array(1)), 1, /invalid record size|exceeds/);
    const shorter = rec.slice();
    shorter[0] = shorter[0]! - 2;
    refused(shorter, 1, /exceeds|invalid record size|remain|truncated/);
  });

  test("negative lengths, negative or impossible header counts, oversized varints", () => {
    // length 7: attributes 0, ts 0, offset 0, key len -2 (zig-zag 3)...
    refused(Uint8Array.of(14, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 1, /invalid key length -2/);
    // header count -1 (zig-zag 1)
    refused(Uint8Array.of(12, 0, 0, 0, 1, 1, 1), 1, /invalid number of record headers -1/);
    // header count 1000 in a 7-byte record
    refused(Uint8Array.of(14, 0, 0, 0, 1, 1, 0xd0, 0x0f), 1, /cannot fit/);
    // a 6-byte varint
    refused(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 0, 0, 0, 0, 0, 0), 1, /longer than 5 bytes/);
    // record length below the minimum
    refused(Uint8Array.of(2, 0, 0, 0, 0, 0, 0), 1, /invalid record length 1/);
    // null header key
    refused(Uint8Array.of(16, 0, 0, 0, 1, 1, 2, 1, 1), 1, /invalid header key length -1/);
  });

  test("random garbage never throws", () => {
    let x = 12345;
    for (let i = 0; i < 2000; i++) {
      const n = 1 + (i % 97);
      const b = new Uint8Array(n);
      for (let j = 0; j < n; j++) {
        x = (x * 1103515245 + 12345) >>> 0;
        b[j] = x >>> 24;
      }
      expect(() => scanRecords(b, 1 + (i % 5))).not.toThrow();
      expect(() => decodeRecords(b, 1 + (i % 5))).not.toThrow();
    }
  });
});
