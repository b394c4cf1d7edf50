// The benchmarks' record reader (bench/lib/records.ts): the open loop's consumer takes each
// record's send time with forEachStamp (no object per record), which must see exactly the stamped
// records readRecordValues sees, at the same offsets, across batches and with keys and nulls, and
// report the unstamped ones too (the consumer's offset must move past them).
import { expect, test } from "bun:test";
import { buildRecordBatch } from "../../../src/client/record-batch-builder.ts";
import { buildStampedBatch, forEachStamp, readRecordValues, readStamp, stampValue } from "../../../bench/lib/records.ts";

function withBaseOffset(batch: Uint8Array, base: number): Uint8Array {
  new DataView(batch.buffer, batch.byteOffset, batch.byteLength).setBigInt64(0, BigInt(base));
  return batch;
}

function stamped(seq: number, sentAt: number, bytes = 1024): Uint8Array {
  const v = new Uint8Array(bytes).fill(9);
  stampValue(v, seq, sentAt);
  return v;
}

test("forEachStamp reports every record's offset, with its send time where the value is stamped", () => {
  const first = withBaseOffset(
    buildRecordBatch([
      { value: stamped(0, 1.25) },
      { key: new TextEncoder().encode("a key of some length"), value: stamped(1, 2.5) },
      { value: null },
      { value: new Uint8Array(40).fill(1) }, // long enough, no stamp magic
      { value: stamped(2, 3.75, 16) }, // the shortest stamped value
    ]),
    100,
  );
  const second = withBaseOffset(buildRecordBatch([{ value: stamped(3, 1e9 + 0.5) }, { value: new Uint8Array(8) }]), 300);
  // a trailing partial batch (as a Fetch response may end) is ignored by both readers
  const partial = withBaseOffset(buildRecordBatch([{ value: stamped(4, 9) }]), 400).subarray(0, 70);
  const all = new Uint8Array(first.length + second.length + partial.length);
  all.set(first, 0);
  all.set(second, first.length);
  all.set(partial, first.length + second.length);

  // every record is reported (the consumer advances its offset past unstamped ones too)
  const seen: [number, number | null][] = [];
  forEachStamp(all, (offset, sentAt) => seen.push([offset, sentAt]));
  expect(seen).toEqual([
    [100, 1.25],
    [101, 2.5],
    [102, null],
    [103, null],
    [104, 3.75],
    [300, 1e9 + 0.5],
    [301, null],
  ]);

  const values = readRecordValues(all);
  expect(values.map((r) => r.offset)).toEqual([100, 101, 102, 103, 104, 300, 301]);
  expect(values[2]!.value).toBeNull();
  expect(values.map((r) => [r.offset, readStamp(r.value)?.sentAt ?? null])).toEqual(seen);
});

test("forEachStamp of nothing calls nothing", () => {
  let calls = 0;
  forEachStamp(null, () => calls++);
  forEachStamp(new Uint8Array(0), () => calls++);
  expect(calls).toBe(0);
});

test("buildStampedBatch writes exactly the batch buildRecordBatch makes of the same stamped records", () => {
  const template = new Uint8Array(1024);
  for (let i = 16; i < template.length; i++) template[i] = (i * 131 + 7) & 0xff;
  const ts = 1_795_000_000_123;
  // 200 records: offset deltas past 63 and 8191 take two and more varint bytes
  for (const [from, count] of [[0, 1], [3, 64], [0, 200]] as const) {
    const sentAt = Array.from({ length: 210 }, (_, i) => 1000.125 + i * 0.5);
    const values = Array.from({ length: count }, (_, i) => {
      const v = template.slice();
      stampValue(v, 77 + i, sentAt[from + i]!);
      return { value: v, timestamp: ts };
    });
    const expected = buildRecordBatch(values);
    const built = buildStampedBatch(sentAt, from, count, 77, template, ts);
    expect(Buffer.from(built).equals(Buffer.from(expected))).toBe(true);
    const seen: [number, number | null][] = [];
    forEachStamp(built, (offset, at) => seen.push([offset, at]));
    expect(seen).toEqual(Array.from({ length: count }, (_, i) => [i, sentAt[from + i]!] as [number, number]));
  }
  expect(() => buildStampedBatch([1], 0, 0, 0, template)).toThrow();
});

test("buildStampedBatch into scratch memory writes the same bytes there, and allocates when it does not fit", () => {
  const template = new Uint8Array(1024).fill(5);
  const ts = 1_795_000_000_123;
  const sentAt = Array.from({ length: 64 }, (_, i) => 10.5 + i);
  const fresh = buildStampedBatch(sentAt, 0, 64, 9, template, ts);
  const scratch = new Uint8Array(fresh.length + 500).fill(0xee);
  const region = scratch.subarray(300);
  const built = buildStampedBatch(sentAt, 0, 64, 9, template, ts, region.subarray(0, fresh.length));
  expect(built.buffer).toBe(scratch.buffer);
  expect(built.byteOffset).toBe(300);
  expect(Buffer.from(built).equals(Buffer.from(fresh))).toBe(true);
  expect(scratch[299]).toBe(0xee); // nothing written before the region
  const tooSmall = new Uint8Array(fresh.length - 1);
  const own = buildStampedBatch(sentAt, 0, 64, 9, template, ts, tooSmall);
  expect(own.buffer).not.toBe(tooSmall.buffer);
  expect(Buffer.from(own).equals(Buffer.from(fresh))).toBe(true);
});
