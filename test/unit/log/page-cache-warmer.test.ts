// The page-cache warmer (src/log/page-cache-warmer.ts) with real files: a flush-interval segment
// file taking large appends keeps a sparse tail ahead of its data and the warmer's readahead calls,
// on the runtime's worker pool, bring that tail into the page cache (checked with fincore(1), which asks the kernel what is
// resident); the data itself is untouched, the file is cut to its data at close, and a descriptor
// with warm-up reads in flight is closed only once they returned.
import { expect, test } from "bun:test";
import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { MappedSegmentFile, mappedSegmentFileFactory } from "../../../src/log/mapped-segment-file.ts";
import { PartitionLog } from "../../../src/log/partition-log.ts";
import { PageCacheWarmer, WarmRange, warmerCounters } from "../../../src/log/page-cache-warmer.ts";
import { fileMapping } from "../../../src/native/file-mapping.ts";
import { readaheadAsync } from "../../../src/native/index.ts";
import { buildBatch, sampleRecords, splitBatches } from "./batch-builder.ts";
import { config, freshSegmentPath, tempDir, openDescriptors } from "./helpers.ts";
import { REPO_DIR, runSelfKillingChild } from "../../support/child-bun.ts";

const PAGE = 4096;

async function untilIdle(w: PageCacheWarmer): Promise<void> {
  for (let i = 0; i < 500 && !w.idle; i++) await Bun.sleep(2);
  expect(w.idle).toBe(true);
}

/** Resident pages of `path` as the kernel reports them. */
function residentPages(path: string): number {
  const out = Bun.spawnSync(["fincore", "--noheadings", "--raw", "--output", "PAGES", path]);
  expect(out.exitCode).toBe(0);
  return Number(out.stdout.toString().trim());
}

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

test("large appends: the sparse tail ahead of the data is brought into the page cache; the bytes written stay exact", async () => {
  const path = freshSegmentPath();
  const warmer = new PageCacheWarmer();
  const f = new MappedSegmentFile(path, fileMapping()!, 2048, warmer);
  const reads0 = warmerCounters.reads;
  const parts = Array.from({ length: 40 }, (_, i) => pattern(140_000 + i * 7, i));
  for (const p of parts) {
    f.write(p);
    // the file grows its tail only while none of its readahead runs (see extendAhead): let it end
    await untilIdle(warmer);
  }
  const length = statSync(path).size;
  // the file runs ahead of its data, and every page of it (data and tail) is resident
  expect(length).toBeGreaterThan(f.size);
  expect(warmerCounters.reads).toBeGreaterThan(reads0);
  expect(residentPages(path)).toBeGreaterThanOrEqual(Math.ceil(length / PAGE) - 1);
  const expected = Buffer.concat(parts);
  expect(Buffer.from(f.read(0, expected.length + 100)).equals(expected)).toBe(true);
  f.close();
  expect(statSync(path).size).toBe(expected.length);
  expect(Buffer.from(readFileSync(path)).equals(expected)).toBe(true);
});

test("appends through the mapping warm the tail ahead too: the window moves onto pages that are already cached", async () => {
  const path = freshSegmentPath();
  const warmer = new PageCacheWarmer();
  const f = new MappedSegmentFile(path, fileMapping()!, 2048, warmer);
  const bytes0 = warmerCounters.bytes;
  const parts = Array.from({ length: 600 }, (_, i) => pattern(1000 + (i % 9), i));
  for (let i = 0; i < parts.length; i++) {
    f.write(parts[i]!);
    if (i % 50 === 49) await untilIdle(warmer);
  }
  await untilIdle(warmer);
  const length = statSync(path).size;
  expect(length).toBeGreaterThan(f.size);
  expect(warmerCounters.bytes - bytes0).toBeGreaterThan(f.size);
  expect(residentPages(path)).toBeGreaterThanOrEqual(Math.ceil(length / PAGE) - 1);
  const expected = Buffer.concat(parts);
  f.close();
  expect(Buffer.from(readFileSync(path)).equals(expected)).toBe(true);
});

test("without a warmer, or with mid-size pwrite appends only, no tail is kept (the controls for the tests above)", async () => {
  const dir = tempDir();
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "00000000000000000000.log");
  const f = new MappedSegmentFile(path, fileMapping()!, 2048, null);
  for (let i = 0; i < 10; i++) f.write(pattern(140_000, i));
  expect(statSync(path).size).toBe(f.size);
  f.close();
  // appends below 128 KiB (here through pwrite: 50 KB) do not warm: the file ends at the data
  const small = join(dir, "00000000000000000001.log");
  const warmer = new PageCacheWarmer();
  const g = new MappedSegmentFile(small, fileMapping()!, 2048, warmer);
  for (let i = 0; i < 20; i++) g.write(pattern(50_000, i));
  expect(warmer.idle).toBe(true);
  expect(statSync(small).size).toBe(g.size);
  g.close();
});

test("a file closed while its warm-up reads are in flight: cut to its data at once, descriptor closed when they return", async () => {
  const dir = tempDir();
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "00000000000000000000.log");
  const warmer = new PageCacheWarmer(4, 64 * 1024);
  const f = new MappedSegmentFile(path, fileMapping()!, 2048, warmer);
  const data = pattern(3_000_000, 9);
  for (let at = 0; at < data.length; at += 300_000) f.write(data.subarray(at, at + 300_000));
  expect(warmer.idle).toBe(false); // reads queued or in flight at the moment of close
  f.close();
  expect(statSync(path).size).toBe(data.length);
  await untilIdle(warmer);
  expect(openDescriptors(path)).toBe(0);
  expect(Buffer.from(readFileSync(path)).equals(Buffer.from(data))).toBe(true);
});

test("the warmer reads exactly the ranges asked for, round-robin, and stops at a clip", async () => {
  const dir = tempDir();
  mkdirSync(dir, { recursive: true });
  const a = join(dir, "a");
  const b = join(dir, "b");
  const fds = [a, b].map((p) => {
    const fd = openSync(p, "w+");
    ftruncateSync(fd, 8 << 20); // sparse: reading it allocates no disk block
    return fd;
  });
  const warmer = new PageCacheWarmer(2, 128 * 1024);
  const ra = new WarmRange(fds[0]!);
  const rb = new WarmRange(fds[1]!);
  const bytes0 = warmerCounters.bytes;
  warmer.warm(ra, 0, 1 << 20);
  warmer.warm(ra, 1 << 20, 2 << 20); // extends the queued range
  warmer.warm(rb, 4096, 4096 + 3 * 128 * 1024);
  rb.clip(4096 + 128 * 1024); // at most one more piece of b after what is in flight
  await untilIdle(warmer);
  const read = warmerCounters.bytes - bytes0;
  expect(read).toBeGreaterThanOrEqual((2 << 20) + 128 * 1024);
  expect(read).toBeLessThanOrEqual((2 << 20) + 2 * 128 * 1024);
  expect(residentPages(a)).toBeGreaterThanOrEqual((2 << 20) / PAGE);
  expect(statSync(a).blocks).toBe(0); // holes read, nothing allocated on disk
  ra.close();
  rb.close();
  expect(openDescriptors(a) + openDescriptors(b)).toBe(0);
  const bytes1 = warmerCounters.bytes;
  warmer.warm(ra, 2 << 20, 4 << 20); // a closed range is never read again
  expect(warmer.idle).toBe(true);
  expect(warmerCounters.bytes).toBe(bytes1);
  for (const fd of fds) expect(() => closeSync(fd)).toThrow(); // already closed by the ranges
});

test("killed while large appends keep a warmed tail: recovery cuts the tail and keeps every written record", async () => {
  const dir = tempDir();
  const cfg = config({ flushIntervalMessages: 1_000_000, segmentBytes: 4 << 20 });
  const child = (await runSelfKillingChild(
    `
    import { PartitionLog } from "${REPO_DIR}/src/log/partition-log.ts";
    import { mappedSegmentFileFactory } from "${REPO_DIR}/src/log/mapped-segment-file.ts";
    import { buildBatch, sampleRecords } from "${REPO_DIR}/test/unit/log/batch-builder.ts";
    const log = await PartitionLog.open("${dir}", "t", 0, ${JSON.stringify(cfg)}, { files: mappedSegmentFileFactory(true)! });
    let last;
    for (let i = 0; i < 60; i++) {
      last = log.append(buildBatch(sampleRecords(150, 1_700_000_000_000 + i, 1000)), 1_700_000_000_000 + i);
      if (last.errorCode !== 0) throw new Error("append " + last.errorCode);
      await Bun.sleep(20); // readahead returns between appends, as between produce requests
    }
    await log.untilWritten(last);
    console.log(JSON.stringify({ end: log.logEndOffset, segments: log.segmentCount }));
    process.kill(process.pid, "SIGKILL");
    `,
  )) as { end: number; segments: number };
  expect(child.end).toBe(60 * 150);
  expect(child.segments).toBeGreaterThan(1);
  const names = readdirSync(dir).filter((n) => n.endsWith(".log")).sort();
  const activePath = join(dir, names[names.length - 1]!);
  const sizeBefore = statSync(activePath).size;
  const log = await PartitionLog.open(dir, "t", 0, cfg, { files: mappedSegmentFileFactory(true)! });
  expect(log.logEndOffset).toBe(child.end);
  // the kill left a tail past the data; recovery cut it
  expect(sizeBefore).toBeGreaterThan(statSync(activePath).size);
  let next = 0;
  while (next < log.logEndOffset) {
    const got = splitBatches(log.read(next, 1 << 22).records!);
    expect(got[0]!.baseOffset).toBe(next);
    const lastBatch = got[got.length - 1]!;
    next = lastBatch.baseOffset + new DataView(lastBatch.bytes.buffer, lastBatch.bytes.byteOffset).getInt32(57);
  }
  expect(next).toBe(child.end);
  expect(log.append(buildBatch(sampleRecords(2)), 1_700_000_000_000).baseOffset).toBe(child.end);
  await log.close();
}, 60_000);

test("the addon's readahead: 0 on success, the errno for a bad descriptor, a refusal of bad arguments", async () => {
  const dir = tempDir();
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "r");
  const fd = openSync(path, "w+");
  ftruncateSync(fd, 1 << 20);
  expect(await readaheadAsync(fd, 0, 1 << 20)).toBe(0);
  expect(residentPages(path)).toBe((1 << 20) / PAGE);
  closeSync(fd);
  expect(await readaheadAsync(fd, 0, 4096)).toBe(9); // EBADF
  expect(() => readaheadAsync(-1, 0, 4096)).toThrow(/bad descriptor/);
  expect(() => readaheadAsync(3, -5, 4096)).toThrow(/bad descriptor, offset or length/);
});
