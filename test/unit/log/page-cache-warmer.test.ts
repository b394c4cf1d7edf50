// The page-cache warmer (src/log/page-cache-warmer.ts) with real files: a flush-interval segment
// file keeps a sparse tail ahead of its data and the warmer's reads, on Bun's file-system thread
// pool, bring that tail into the page cache (checked with fincore(1), which asks the kernel what is
// resident); the data itself is untouched, the file is cut to its data at close, and a descriptor
// with warm-up reads in flight is closed only once they returned.
import { expect, test } from "bun:test";
import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { MappedSegmentFile } from "../../../src/log/mapped-segment-file.ts";
import { PageCacheWarmer, WarmRange, warmerCounters } from "../../../src/log/page-cache-warmer.ts";
import { fileMapping } from "../../../src/native/file-mapping.ts";
import { tempDir } from "./helpers.ts";

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

/** Descriptors of this process open on `path`. */
function openDescriptors(path: string): number {
  let n = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) n++;
    } catch {
      // closed while listing
    }
  }
  return n;
}

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

test("large appends: the sparse tail ahead of the data is brought into the page cache; the bytes written stay exact", async () => {
  const dir = tempDir();
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "00000000000000000000.log");
  const warmer = new PageCacheWarmer();
  const f = new MappedSegmentFile(path, fileMapping()!, 2048, warmer);
  const reads0 = warmerCounters.reads;
  const parts = Array.from({ length: 40 }, (_, i) => pattern(100_000 + i * 7, i));
  for (const p of parts) f.write(p);
  await untilIdle(warmer);
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

test("without a warmer, large appends leave no tail (the control for the test above)", () => {
  const dir = tempDir();
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "00000000000000000000.log");
  const f = new MappedSegmentFile(path, fileMapping()!, 2048, null);
  for (let i = 0; i < 10; i++) f.write(pattern(100_000, i));
  expect(statSync(path).size).toBe(f.size);
  f.close();
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
  for (const fd of fds) expect(() => closeSync(fd)).toThrow(); // already closed by the ranges
});
