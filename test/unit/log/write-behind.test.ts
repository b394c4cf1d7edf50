// Write-behind (MappedSegmentFile.writeBehind): a flush-interval segment starts the writeback of
// each 8 MiB it has written, one call at a time on the addon's own thread (10 nice steps below the
// process), over whole pages only; the data stays exact and the descriptor stays open until a call
// in flight has returned. Data more than DROP_BEHIND_KEEP_BYTES below the append position is
// written back and dropped from the page cache on that thread, after the write-behind.
import { afterAll, expect, test } from "bun:test";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { MappedSegmentFile } from "../../../src/log/mapped-segment-file.ts";
import { DROP_BEHIND_KEEP_BYTES, WRITE_BEHIND_BYTES, writeBehindCounters } from "../../../src/log/segment-file.ts";
import { PageCacheWarmer } from "../../../src/log/page-cache-warmer.ts";
import { fileMapping } from "../../../src/native/file-mapping.ts";
import { dropCachedAsync, writeBehindAsync } from "../../../src/native/index.ts";
import { freshSegmentPath, tempDir, openDescriptors } from "./helpers.ts";
import { procStatFields } from "../../../bench/lib/env.ts";
import { REPO_ROOT } from "../../support/broker.ts";

const MiB = 1024 * 1024;

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/**
 * Closes `f`; its descriptor is gone once calls in flight returned (then `whenClosed` runs, before
 * anything reads the file), and the file holds exactly `data`.
 */
async function closedHolding(f: MappedSegmentFile, path: string, data: Uint8Array, whenClosed: () => void = () => {}): Promise<void> {
  f.close();
  for (let i = 0; i < 400 && openDescriptors(path) > 0; i++) await Bun.sleep(5);
  expect(openDescriptors(path)).toBe(0);
  whenClosed();
  expect(Buffer.from(readFileSync(path)).equals(Buffer.from(data))).toBe(true);
}

test("every 8 MiB written starts the writeback of the pages below it, once each; bytes exact", async () => {
  const path = freshSegmentPath();
  const f = new MappedSegmentFile(path, fileMapping()!, 2048, new PageCacheWarmer());
  const before = { ...writeBehindCounters };
  const data = pattern(20 * MiB + 1234, 3);
  for (let at = 0; at < data.length; at += 256 * 1024) {
    f.write(data.subarray(at, at + 256 * 1024));
    await Bun.sleep(1); // let a call in flight return
  }
  // at 8 MiB: [0, 8 MiB); at 16 MiB: [8, 16 MiB); the last 4 MiB are below the step
  expect(writeBehindCounters.calls - before.calls).toBe(2);
  expect(writeBehindCounters.bytes - before.bytes).toBe(16 * MiB);
  await closedHolding(f, path, data);
});

test("a file closed while its write-behind runs keeps the descriptor until the call returns", async () => {
  const path = freshSegmentPath();
  const f = new MappedSegmentFile(path, fileMapping()!, 2048, new PageCacheWarmer());
  const before = writeBehindCounters.calls;
  const data = pattern(9 * MiB, 5);
  f.write(data); // one large append: the call starts at once, still in flight at close
  expect(writeBehindCounters.calls - before).toBe(1);
  await closedHolding(f, path, data);
});

test("without a warmer (bunka.log.warm.ahead=false) nothing is written behind (the control)", async () => {
  const path = freshSegmentPath();
  const f = new MappedSegmentFile(path, fileMapping()!, 2048, null);
  const before = writeBehindCounters.calls;
  f.write(pattern(17 * MiB, 7));
  await Bun.sleep(5);
  expect(writeBehindCounters.calls).toBe(before);
  f.close();
});

test("the addon's write-behind: 0 on success, the errno for a bad descriptor, a refusal of bad arguments", async () => {
  const dir = tempDir();
  mkdirSync(dir, { recursive: true });
  const fd = openSync(join(dir, "w"), "w+");
  writeSync(fd, pattern(MiB, 1));
  expect(await writeBehindAsync(fd, 0, MiB)).toBe(0);
  closeSync(fd);
  expect(await writeBehindAsync(fd, 0, 4096)).toBe(9); // EBADF
  expect(() => writeBehindAsync(-1, 0, 4096)).toThrow(/bad descriptor/);
  expect(() => writeBehindAsync(3, -5, 4096)).toThrow(/bad descriptor, offset or length/);
});

/** Nice value of the thread whose /proc stat file is `statPath` (field 19, proc(5)). */
function niceOf(statPath: string): number {
  return Number(procStatFields(statPath)[16]);
}

/** Nice values of this process's threads named `name`. */
function nicesOfThreads(name: string): number[] {
  const dir = "/proc/self/task";
  return readdirSync(dir)
    .filter((tid) => readFileSync(`${dir}/${tid}/comm`, "utf8").trim() === name)
    .map((tid) => niceOf(`${dir}/${tid}/stat`));
}

test("write-behind runs on the addon's own thread, 10 nice steps below the event loop", async () => {
  const path = freshSegmentPath();
  const fd = openSync(path, "w+");
  try {
    writeSync(fd, pattern(MiB, 5));
    expect(await writeBehindAsync(fd, 0, MiB)).toBe(0);
    const mainNice = niceOf("/proc/self/stat");
    expect(mainNice).toBeLessThan(19); // so the check below can tell a lowered thread
    expect(nicesOfThreads("bunka-behind")).toEqual([Math.min(mainNice + 10, 19)]);
  } finally {
    closeSync(fd);
  }
});

// Dropping pages needs a disk-backed filesystem (tmpfs pages cannot be dropped): the work disk.
mkdirSync(join(REPO_ROOT, ".cache"), { recursive: true });
const diskDir = mkdtempSync(join(REPO_ROOT, ".cache", "drop-behind-"));
afterAll(() => rmSync(diskDir, { recursive: true, force: true }));

/** Bytes of `path` in the page cache (util-linux fincore). */
function residentBytes(path: string): number {
  const out = Bun.spawnSync(["fincore", "--bytes", "--noheadings", "--output", "RES", path]);
  expect(out.exitCode).toBe(0);
  return Number(out.stdout.toString().trim());
}

test("the addon's drop: the range is written back and leaves the page cache, the rest stays; bad arguments refused", async () => {
  const path = join(diskDir, "drop");
  const fd = openSync(path, "w+");
  try {
    const data = pattern(16 * MiB, 9);
    writeSync(fd, data); // dirty: the call must write it back before it can drop it
    expect(residentBytes(path)).toBe(16 * MiB);
    expect(await dropCachedAsync(fd, 0, 8 * MiB)).toBe(0);
    expect(residentBytes(path)).toBe(8 * MiB);
    expect(Buffer.from(readFileSync(path)).equals(Buffer.from(data))).toBe(true); // read back from the disk
  } finally {
    closeSync(fd);
  }
  expect(await dropCachedAsync(fd, 0, 4096)).toBe(9); // EBADF
  expect(() => dropCachedAsync(-1, 0, 4096)).toThrow(/bad descriptor/);
  expect(() => dropCachedAsync(3, 0, -1)).toThrow(/bad descriptor, offset or length/);
});

test("a segment drops what lies more than DROP_BEHIND_KEEP_BYTES below its append position, 8 MiB at a time; bytes exact", async () => {
  const path = join(diskDir, "00000000000000000000.log");
  const f = new MappedSegmentFile(path, fileMapping()!, 2048, new PageCacheWarmer());
  const before = { ...writeBehindCounters };
  const extra = 3 * WRITE_BEHIND_BYTES;
  const data = pattern(DROP_BEHIND_KEEP_BYTES + extra + 1234, 11);
  for (let at = 0; at < data.length; at += 256 * 1024) {
    f.write(data.subarray(at, at + 256 * 1024));
    await Bun.sleep(1); // let a call in flight return
  }
  // write-behind at 72, 80 and 88 MiB: each drops the 8 MiB that fell 64 MiB below it
  expect(writeBehindCounters.dropCalls - before.dropCalls).toBe(3);
  expect(writeBehindCounters.droppedBytes - before.droppedBytes).toBe(extra);
  // once the drops have returned (the descriptor is closed after them), before the file is read back
  await closedHolding(f, path, data, () => expect(residentBytes(path)).toBeLessThanOrEqual(data.length - extra + 4096));
});
