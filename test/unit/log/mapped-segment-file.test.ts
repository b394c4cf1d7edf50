// Flush-interval logs appending through a shared mapping (src/log/mapped-segment-file.ts): real
// files, real mmap/madvise. The file runs ahead of the data (a sparse tail) while a segment is active
// and is cut back at seal and close; a process killed with that tail in place loses no written record
// (recovery cuts the zero tail); a full disk (EFBIG under a 100 KiB file size limit, in a child process)
// fails the append that does not fit, cleanly, and the log goes on; a file that cannot be mapped
// falls back to pwrite.
import { expect, test } from "bun:test";
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { MappedSegmentFile, mappedIoCounters, mappedSegmentFileFactory } from "../../../src/log/mapped-segment-file.ts";
import { fileMapping, type FileMapping } from "../../../src/native/file-mapping.ts";
import { errnoError } from "../../../src/native/index.ts";
import { PartitionLog } from "../../../src/log/partition-log.ts";
import { ErrorCode } from "../../../src/protocol/record-batch.ts";
import { buildBatch, sampleRecords, splitBatches } from "./batch-builder.ts";
import { config, tempDir } from "./helpers.ts";
import { REPO_DIR, runSelfKillingChild } from "../../support/child-bun.ts";

const T0 = 1_700_000_000_000;
const files = mappedSegmentFileFactory()!;
const flushInterval = (o = {}) => config({ flushIntervalMessages: 1_000_000, ...o });
/** Bytes of whole batches at the start of `buf` (a file read with its zero tail). */
function dataLength(buf: Uint8Array): number {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 0;
  while (pos + 12 <= buf.length && dv.getInt32(pos + 8) > 0) pos += dv.getInt32(pos + 8) + 12;
  return pos;
}
const logFiles = (dir: string) => readdirSync(dir).filter((n) => n.endsWith(".log")).sort();

test("the mapping calls are available on this machine (else the broker silently uses pwrite)", () => {
  expect(fileMapping()).not.toBeNull();
  expect(files).not.toBeNull();
});

test("a segment mapping reads no pages around a fault (MADV_RANDOM): no read-around of the sparse tail", () => {
  const dir = tempDir();
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "00000000000000000000.log");
  writeFileSync(path, new Uint8Array(0));
  const fd = openSync(path, "r+");
  const m = fileMapping()!;
  const length = 1 << 30;
  const address = m.map(fd, length);
  try {
    // /proc/self/smaps: the mapping's VmFlags carry "rr" (random read hint) when the advice took
    const smaps = readFileSync("/proc/self/smaps", "utf8");
    const start = smaps.indexOf(`${address.toString(16)}-`);
    expect(start).toBeGreaterThanOrEqual(0);
    const flags = /VmFlags:([^\n]*)/.exec(smaps.slice(start))![1]!.trim().split(" ");
    expect(flags).toContain("sh"); // shared
    expect(flags).toContain("rr");
  } finally {
    m.unmap(address, length);
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("appends, reads and rolls through the mapping; sealed and closed files are cut to their data", async () => {
  const dir = tempDir();
  const cfg = flushInterval({ segmentBytes: 64 * 1024, indexIntervalBytes: 1024 });
  const log = await PartitionLog.open(dir, "t", 0, cfg, { files });
  const appends0 = mappedIoCounters.appends;
  const batches: Uint8Array[] = [];
  for (let i = 0; i < 300; i++) {
    const b = buildBatch(sampleRecords(1 + (i % 4), T0 + i, 100 + (i % 7) * 50));
    batches.push(b.slice());
    expect(log.append(b, T0 + i).errorCode).toBe(ErrorCode.NONE);
  }
  expect(mappedIoCounters.appends - appends0).toBe(300);
  expect(log.segmentCount).toBeGreaterThan(3);
  const names = logFiles(dir);
  // sealed segments hold exactly their batches; the active one is longer than its data (the sparse tail)
  for (const name of names.slice(0, -1)) {
    const onDisk = new Uint8Array(readFileSync(join(dir, name)));
    expect(dataLength(onDisk)).toBe(onDisk.length);
  }
  const active = join(dir, names[names.length - 1]!);
  const activeData = splitBatches(log.read(0, 1 << 24).records!).length;
  expect(activeData).toBeGreaterThan(0);
  // another reader of the file (pread through the page cache) sees the mapped writes at once
  const onDiskNow = new Uint8Array(readFileSync(active));
  const dataNow = dataLength(onDiskNow);
  expect(dataNow).toBeGreaterThan(0);
  expect(onDiskNow.length).toBeGreaterThan(dataNow);
  await log.close();
  const closedSize = statSync(active).size;
  expect(closedSize).toBe(dataNow);
  // reopened with the plain pwrite backend: the same offsets and bytes
  const again = await PartitionLog.open(dir, "t", 0, cfg);
  expect(again.logEndOffset).toBe(log.logEndOffset);
  let next = 0;
  let count = 0;
  for (let off = 0; off < again.logEndOffset; ) {
    const got = splitBatches(again.read(off, 1 << 24).records!);
    for (const b of got) {
      expect(b.baseOffset).toBe(next);
      // payload after the offset field is what was produced
      expect(Buffer.from(b.bytes.subarray(8)).equals(Buffer.from(batches[count]!.subarray(8)))).toBe(true);
      next = b.baseOffset + splitRecordCount(b.bytes);
      count++;
    }
    off = next;
  }
  expect(count).toBe(batches.length);
  await again.close();
});

function splitRecordCount(batch: Uint8Array): number {
  return new DataView(batch.buffer, batch.byteOffset).getInt32(57);
}

test("killed with the sparse tail in place: reopening cuts the zeros and keeps every written record", async () => {
  const dir = tempDir();
  const child = (await runSelfKillingChild(
    `
    import { PartitionLog } from "${REPO_DIR}/src/log/partition-log.ts";
    import { mappedSegmentFileFactory } from "${REPO_DIR}/src/log/mapped-segment-file.ts";
    import { buildBatch, sampleRecords } from "${REPO_DIR}/test/unit/log/batch-builder.ts";
    const cfg = ${JSON.stringify(flushInterval({ segmentBytes: 256 * 1024 }))};
    const log = await PartitionLog.open("${dir}", "t", 0, cfg, { files: mappedSegmentFileFactory()! });
    for (let i = 0; i < 500; i++) {
      const r = log.append(buildBatch(sampleRecords(3, ${T0} + i, 200)), ${T0} + i);
      if (r.errorCode !== 0) throw new Error("append " + r.errorCode);
    }
    await log.untilWritten(log.append(buildBatch(sampleRecords(1, ${T0}, 10)), ${T0}));
    console.log(JSON.stringify({ end: log.logEndOffset, segments: log.segmentCount }));
    process.kill(process.pid, "SIGKILL");
    `,
  )) as { end: number; segments: number };
  expect(child.end).toBe(1501);
  expect(child.segments).toBeGreaterThan(1);
  const names = logFiles(dir);
  const activePath = join(dir, names[names.length - 1]!);
  const before = new Uint8Array(readFileSync(activePath));
  const data = dataLength(before);
  // the kill left the tail: zeros past the last batch
  expect(before.length).toBeGreaterThan(data);
  expect(before.subarray(data).every((b) => b === 0)).toBe(true);

  const log = await PartitionLog.open(dir, "t", 0, flushInterval({ segmentBytes: 256 * 1024 }), { files });
  expect(log.logEndOffset).toBe(child.end);
  expect(statSync(activePath).size).toBe(data);
  let next = 0;
  while (next < log.logEndOffset) {
    const got = splitBatches(log.read(next, 1 << 20).records!);
    expect(got[0]!.baseOffset).toBe(next);
    next = got[got.length - 1]!.baseOffset + splitRecordCount(got[got.length - 1]!.bytes);
  }
  expect(next).toBe(child.end);
  // and the log goes on appending after the recovered end
  expect(log.append(buildBatch(sampleRecords(2)), T0).baseOffset).toBe(child.end);
  await log.close();
}, 60_000);

test("a file size limit (EFBIG): the append that does not fit fails cleanly, earlier ones stay, the log goes on", async () => {
  const dir = tempDir();
  const script = join(REPO_DIR, ".cache", `mapped-efbig-${process.pid}.ts`);
  writeFileSync(
    script,
    `
    import { PartitionLog } from "${REPO_DIR}/src/log/partition-log.ts";
    import { mappedSegmentFileFactory } from "${REPO_DIR}/src/log/mapped-segment-file.ts";
    import { buildBatch, sampleRecords } from "${REPO_DIR}/test/unit/log/batch-builder.ts";
    const cfg = ${JSON.stringify(flushInterval({ segmentBytes: 1 << 20 }))};
    const log = await PartitionLog.open("${dir}", "t", 0, cfg, { files: mappedSegmentFileFactory()! });
    let acked = 0, firstError = -1, failedAt = -1;
    const batchLen = buildBatch(sampleRecords(4, ${T0}, 500)).length;
    const smallLen = buildBatch(sampleRecords(1, ${T0}, 1)).length;
    for (let i = 0; i < 200; i++) {
      const r = log.append(buildBatch(sampleRecords(4, ${T0}, 500)), ${T0});
      if (r.errorCode !== 0) { firstError = r.errorCode; failedAt = i; break; }
      acked += 4;
    }
    const small = log.append(buildBatch(sampleRecords(1, ${T0}, 1)), ${T0});
    const end = log.logEndOffset;
    const failed = log.failed;
    await log.close();
    console.log(JSON.stringify({ batchLen, smallLen, acked, firstError, failedAt, smallError: small.errorCode, end, failed }));
    `,
  );
  try {
    const proc = Bun.spawn({
      cmd: ["bash", "-c", `trap '' XFSZ; ulimit -f 100; exec "${process.execPath}" "${script}"`],
      cwd: REPO_DIR,
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    if (code !== 0) throw new Error(`child exited ${code}: ${err}`);
    const res = JSON.parse(out.trim().split("\n").pop()!) as Record<string, number | boolean>;
    expect(res.firstError).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    // the file filled up to the last whole batch that fits in 100 KiB (not just to the end of the
    // first growth step of the file: the next step does not fit, the append's own bytes do)
    const limit = 100 * 1024;
    const fitted = Math.floor(limit / (res.batchLen as number));
    expect(res.failedAt).toBe(fitted);
    expect(res.acked).toBe(fitted * 4);
    expect(res.failed).toBe(false);
    // a small batch still goes into what is left
    const smallFits = limit - fitted * (res.batchLen as number) >= (res.smallLen as number);
    expect(smallFits).toBe(true);
    expect(res.smallError).toBe(ErrorCode.NONE);
    expect(res.end).toBe((res.acked as number) + 1);
    const log = await PartitionLog.open(dir, "t", 0, flushInterval({ segmentBytes: 1 << 20 }));
    expect(log.logEndOffset).toBe(res.end as number);
    expect(statSync(join(dir, logFiles(dir)[0]!)).size).toBeLessThanOrEqual(100 * 1024);
    await log.close();
  } finally {
    rmSync(script, { force: true });
  }
}, 60_000);

test("an mmap failure falls back to pwrite for that file; a page that cannot be populated (disk full) throws before any byte moves", () => {
  const real = fileMapping()!;
  const dir = tempDir();
  mkdirSync(dir, { recursive: true });
  const noMap: FileMapping = { ...real, map: () => { throw errnoError(12, "mmap"); } };
  const fallbacks0 = mappedIoCounters.fallbacks;
  const a = new MappedSegmentFile(join(dir, "a.log"), noMap);
  a.write(new Uint8Array(5000).fill(1));
  a.write(new Uint8Array(10).fill(2));
  expect(mappedIoCounters.fallbacks - fallbacks0).toBe(1);
  expect(statSync(join(dir, "a.log")).size).toBe(5010);
  expect(a.read(4998, 100)).toEqual(new Uint8Array([1, 1, ...new Array(10).fill(2)]));
  a.close();

  let refuse = true;
  const full: FileMapping = {
    ...real,
    populate: (address, length) => {
      if (refuse) throw errnoError(28, "madvise");
      real.populate(address, length);
    },
  };
  const b = new MappedSegmentFile(join(dir, "b.log"), full);
  expect(() => b.write(new Uint8Array(100).fill(3))).toThrow(/ENOSPC/);
  expect(b.size).toBe(0);
  refuse = false;
  b.write(new Uint8Array(100).fill(4));
  expect(b.size).toBe(100);
  expect(b.read(0, 1000)).toEqual(new Uint8Array(100).fill(4));
  b.close();
  expect(new Uint8Array(readFileSync(join(dir, "b.log")))).toEqual(new Uint8Array(100).fill(4));
});

/** File pages mapped into this process (kB), from /proc/self/status. */
function rssFileKb(): number {
  const m = /RssFile:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return Number(m![1]);
}

test("only a window around the append position stays mapped: 70 MB appended, RSS grows by far less", () => {
  const dir = tempDir();
  mkdirSync(dir, { recursive: true });
  const f = new MappedSegmentFile(join(dir, "big.log"), fileMapping()!);
  const chunk = new Uint8Array(1000).fill(9);
  f.write(chunk);
  const before = rssFileKb();
  const windows0 = mappedIoCounters.windows;
  const writes = 70_000;
  for (let i = 1; i < writes; i++) f.write(chunk);
  const grownKb = rssFileKb() - before;
  // every page written was mapped once (one window call per 64-128 KiB), and let go again
  expect(mappedIoCounters.windows - windows0).toBeGreaterThanOrEqual(Math.floor((writes * 1000) / (128 * 1024)));
  expect(grownKb).toBeLessThan(8 * 1024);
  expect(f.size).toBe(writes * 1000);
  // the data is all there, read through the page cache
  const tail = f.read(f.size - 3000, 3000);
  expect(tail).toEqual(new Uint8Array(3000).fill(9));
  f.close();
  expect(statSync(join(dir, "big.log")).size).toBe(f.size);
});

test("large appends go through pwrite over the sparse tail, small ones through the mapping, in one contiguous file", () => {
  const dir = tempDir();
  mkdirSync(dir, { recursive: true });
  const f = new MappedSegmentFile(join(dir, "mixed.log"), fileMapping()!);
  const appends0 = mappedIoCounters.appends;
  const parts = [100, 3000, 50, 70_000, 10, 200_000, 1].map((n, i) => new Uint8Array(n).fill(i + 1));
  for (const p of parts) f.write(p);
  // the four small ones were copied into the mapping, the three large ones written with pwrite
  expect(mappedIoCounters.appends - appends0).toBe(4);
  const total = parts.reduce((n, p) => n + p.length, 0);
  expect(f.size).toBe(total);
  const expected = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    expected.set(p, at);
    at += p.length;
  }
  expect(f.read(0, total + 10)).toEqual(expected);
  f.close();
  expect(new Uint8Array(readFileSync(join(dir, "mixed.log")))).toEqual(expected);
});
