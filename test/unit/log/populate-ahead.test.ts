// Populating the next mapped window ahead, on the worker pool (MappedSegmentFile.populateAhead):
// appends through the mapping find their pages already faulted in and make no call on the JS
// thread; the window moves only after a populate succeeded and only if the file was neither cut
// nor unmapped meanwhile; a mapping is never unmapped while a populate of it is still running.
import { expect, test } from "bun:test";
import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { MappedSegmentFile, mappedIoCounters } from "../../../src/log/mapped-segment-file.ts";
import { PageCacheWarmer } from "../../../src/log/page-cache-warmer.ts";
import { fileMapping, type FileMapping } from "../../../src/native/file-mapping.ts";
import { populateWriteAsync } from "../../../src/native/index.ts";
import { freshSegmentPath, tempDir } from "./helpers.ts";

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 29 + seed) & 0xff;
  return b;
}

/** The real calls, with populateAsync held until the test lets each call go (and counted unmaps). */
function heldMapping() {
  const real = fileMapping()!;
  const held: { address: number; length: number; settle: (errno: number) => void }[] = [];
  const unmapped: number[] = [];
  const calls: FileMapping = {
    ...real,
    // the release that rides along is done at once (the real call does it before populating)
    populateAsync: (address, length, releaseAddress = 0, releaseLength = 0) => {
      if (releaseLength > 0) real.release(releaseAddress, releaseLength);
      return new Promise<number>((resolve) => held.push({ address, length, settle: resolve }));
    },
    unmap: (address, length) => {
      unmapped.push(address);
      real.unmap(address, length);
    },
  };
  return { calls, held, unmapped, real };
}

test("small appends after the first window: the next windows are populated ahead, the JS thread takes almost no window call; bytes exact", async () => {
  const path = freshSegmentPath();
  const warmer = new PageCacheWarmer();
  const f = new MappedSegmentFile(path, fileMapping()!, 2048, warmer);
  const parts = Array.from({ length: 3000 }, (_, i) => pattern(1000 + (i % 7), i));
  const windows0 = mappedIoCounters.windows;
  const ahead0 = mappedIoCounters.populatedAhead;
  for (let i = 0; i < parts.length; i++) {
    f.write(parts[i]!);
    // a pause every 16 KB or so: the worker's populate (and the warmer's readahead) can finish, as
    // they do between a partition's appends in the broker
    if (i % 16 === 15) await Bun.sleep(3);
  }
  const syncWindows = mappedIoCounters.windows - windows0;
  const populatedAhead = mappedIoCounters.populatedAhead - ahead0;
  // 3 MB through 64-128 KiB windows: ~30 windows; all but a few were populated ahead
  expect(populatedAhead).toBeGreaterThanOrEqual(20);
  expect(syncWindows).toBeLessThanOrEqual(4);
  const expected = Buffer.concat(parts);
  expect(Buffer.from(f.read(0, expected.length + 10)).equals(expected)).toBe(true);
  f.close();
  expect(statSync(path).size).toBe(expected.length);
  expect(Buffer.from(readFileSync(path)).equals(expected)).toBe(true);
});

/** File pages mapped into this process (kB), from /proc/self/status. */
function rssFileKb(): number {
  const m = /RssFile:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return Number(m![1]);
}

test("with the windows populated ahead, only a window around the append position stays mapped: 40 MB appended, RSS grows by far less", async () => {
  const f = new MappedSegmentFile(freshSegmentPath(), fileMapping()!, 2048, new PageCacheWarmer());
  const chunk = new Uint8Array(1000).fill(5);
  f.write(chunk);
  const before = rssFileKb();
  const ahead0 = mappedIoCounters.populatedAhead;
  const windows0 = mappedIoCounters.windows;
  for (let i = 1; i < 40_000; i++) {
    f.write(chunk);
    if (i % 16 === 0) await Bun.sleep(1);
  }
  // the windows came from the worker pool (those moved on the JS thread release what is behind too)
  expect(mappedIoCounters.populatedAhead - ahead0).toBeGreaterThan(200);
  expect(mappedIoCounters.windows - windows0).toBeLessThan(20);
  expect(rssFileKb() - before).toBeLessThan(8 * 1024);
  expect(f.size).toBe(40_000 * 1000);
  f.close();
}, 60_000);

test("without a warmer nothing is populated ahead: every window is a call on the JS thread (the control)", () => {
  const f = new MappedSegmentFile(freshSegmentPath(), fileMapping()!, 2048, null);
  const windows0 = mappedIoCounters.windows;
  const ahead0 = mappedIoCounters.populatedAhead;
  for (let i = 0; i < 3000; i++) f.write(pattern(1000, i));
  expect(mappedIoCounters.populatedAhead - ahead0).toBe(0);
  expect(mappedIoCounters.windows - windows0).toBeGreaterThanOrEqual(20);
  f.close();
});

test("a mapping released while a populate runs is unmapped only once that populate has returned", async () => {
  const path = freshSegmentPath();
  const { calls, held, unmapped } = heldMapping();
  const f = new MappedSegmentFile(path, calls, 2048, new PageCacheWarmer());
  const parts: Uint8Array[] = [];
  // appends until the first populate ahead is asked for (the window's end is near)
  for (let i = 0; held.length === 0 && i < 500; i++) {
    parts.push(pattern(1000, i));
    f.write(parts[i]!);
  }
  expect(held.length).toBe(1);
  f.close(); // cuts the file to its data and releases the mapping
  expect(unmapped.length).toBe(0);
  held[0]!.settle(14); // the call failed (the file was cut under it): still unmapped now
  await Bun.sleep(0);
  expect(unmapped.length).toBe(1);
  expect(Buffer.from(readFileSync(path)).equals(Buffer.concat(parts))).toBe(true);
});

test("a populate that returns after the file was cut, or that failed, does not move the window: the next append maps its own", async () => {
  const path = freshSegmentPath();
  const { calls, held } = heldMapping();
  const warmer = new PageCacheWarmer();
  const f = new MappedSegmentFile(path, calls, 2048, warmer);
  const written: Uint8Array[] = [];
  const write = (b: Uint8Array) => {
    f.write(b);
    written.push(b);
  };
  // until a populate ahead is held, and at least 8 KB (the first one can come after two appends:
  // the window's end is jittered)
  for (let i = 0; (held.length === 0 || i < 8) && i < 500; i++) write(pattern(1000, i));
  expect(held.length).toBe(1);
  // the log cuts its file back (a torn tail), then appends again
  const keep = f.size - 3000;
  expect(keep).toBeGreaterThan(0);
  f.truncate(keep);
  const kept = Buffer.concat(written).subarray(0, keep);
  written.length = 0;
  written.push(new Uint8Array(kept));
  // (while the file's tail is being read ahead, an append past its end takes pwrite instead)
  for (let i = 0; i < 500 && !warmer.idle; i++) await Bun.sleep(2);
  const windows0 = mappedIoCounters.windows;
  write(pattern(1000, 77)); // past the cut window: a window of its own, on the JS thread
  expect(mappedIoCounters.windows - windows0).toBe(1);
  const ahead0 = mappedIoCounters.populatedAhead;
  held[0]!.settle(0); // the stale populate reports success
  await Bun.sleep(0);
  expect(mappedIoCounters.populatedAhead - ahead0).toBe(0);
  // a failed populate ahead (a full disk would answer EFAULT) is not taken either: appends go on
  // through windows of the JS thread, which would throw the error where an append can answer it
  let failed = 0;
  for (let i = 0; i < 400; i++) {
    write(pattern(1000, 100 + i));
    while (held.length > 1) {
      held.splice(1, 1)[0]!.settle(14);
      failed++;
    }
    await Bun.sleep(0);
  }
  expect(failed).toBeGreaterThan(0);
  expect(mappedIoCounters.populatedAhead - ahead0).toBe(0);
  expect(mappedIoCounters.windows - windows0).toBeGreaterThanOrEqual(3);
  const expected = Buffer.concat(written);
  expect(Buffer.from(f.read(0, expected.length + 10)).equals(expected)).toBe(true);
  f.close();
  expect(Buffer.from(readFileSync(path)).equals(expected)).toBe(true);
});

/** A scratch file of `bytes` (a sparse hole) in a fresh temp dir, open read-write: its descriptor. */
function scratchFile(name: string, bytes: number): number {
  const dir = tempDir();
  mkdirSync(dir, { recursive: true });
  const fd = openSync(join(dir, name), "w+");
  ftruncateSync(fd, bytes);
  return fd;
}

test("the native populate: 0 for pages of a shared file mapping, an errno for an address that is not mapped, bad arguments refused", async () => {
  const calls = fileMapping()!;
  const fd = scratchFile("m.bin", 64 * 1024);
  try {
    const address = calls.map(fd, 1 << 20);
    try {
      expect(await populateWriteAsync(address, 64 * 1024)).toBe(0);
      // past the file's end inside the mapping: EFAULT (a store there would be SIGBUS)
      expect(await populateWriteAsync(address + 64 * 1024, 4096)).toBe(14);
    } finally {
      calls.unmap(address, 1 << 20);
    }
    // no longer mapped: ENOMEM
    expect(await populateWriteAsync(address, 4096)).toBe(12);
    expect(() => populateWriteAsync(address + 1, 4096)).toThrow(/bad address/);
    expect(() => populateWriteAsync(0, 4096)).toThrow(/bad address/);
  } finally {
    closeSync(fd);
  }
});

test("the native populate with a release range: those pages leave the process's RSS first, their bytes stay in the file", async () => {
  const MiB = 1 << 20;
  const calls = fileMapping()!;
  const fd = scratchFile("r.bin", 8 * MiB);
  try {
    const address = calls.map(fd, 8 * MiB);
    try {
      calls.populate(address, 4 * MiB);
      const data = pattern(4 * MiB, 3);
      calls.copy(address, data);
      const mapped = rssFileKb();
      expect(await populateWriteAsync(address + 4 * MiB, 64 * 1024, address, 4 * MiB)).toBe(0);
      expect(mapped - rssFileKb()).toBeGreaterThan(3.5 * 1024); // ~4 MiB unmapped, 64 KiB mapped
      const back = Buffer.alloc(4 * MiB);
      expect(readSync(fd, back, 0, back.length, 0)).toBe(back.length);
      expect(back.equals(data)).toBe(true);
      // a release range that is not page-aligned is refused like a bad populate range
      expect(() => populateWriteAsync(address, 4096, address + 1, 4096)).toThrow(/release.*bad address/);
    } finally {
      calls.unmap(address, 8 * MiB);
    }
  } finally {
    closeSync(fd);
  }
});
