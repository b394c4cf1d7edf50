/**
 * Why segment mappings carry MADV_RANDOM (src/native/file-mapping.ts): the time of one window
 * populate (MADV_POPULATE_WRITE of 128 KiB, what mapped-segment-file.ts does ahead of the append
 * position) into a sparse tail that grows 4 MiB at a time, with the broker's advice and with the
 * kernel's default (MADV_NORMAL: a fault on an uncached page reads around it, up to read_ahead_kb
 * of the disk, bounded by the file's end). Prints per-window median and maximum and the total,
 * the two variants alternated.
 *
 *   bun bench/mapped-fault-readaround.bench.ts [MiB per run] [runs per variant]
 *   cat /sys/block/<disk>/queue/read_ahead_kb     # the read-around size
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, rmSync } from "node:fs";
import { join } from "node:path";
import { dlopen, FFIType } from "bun:ffi";
import { fileMapping } from "../src/native/file-mapping.ts";

const MIB = Number(process.argv[2] ?? 64);
const RUNS = Number(process.argv[3] ?? 3);
const WINDOW = 128 << 10;
const STEP = 4 << 20;
const MAPPING = 1 << 30;
const MADV_NORMAL = 0;

const calls = fileMapping();
if (calls === null) throw new Error("the mapping calls are not available here");
const libc = dlopen("libc.so.6", { madvise: { args: [FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 } });
const dir = join(import.meta.dir, "..", ".cache", "mapped-readaround-bench");
mkdirSync(dir, { recursive: true });

function run(readAround: boolean): { p50: number; max: number; total: number } {
  const path = join(dir, "segment.log");
  rmSync(path, { force: true });
  const fd = openSync(path, "w+");
  const address = calls!.map(fd, MAPPING);
  // map() advised MADV_RANDOM; the kernel default is put back for the other variant
  if (readAround && libc.symbols.madvise(address as never, MAPPING, MADV_NORMAL) !== 0) throw new Error("madvise(MADV_NORMAL) failed");
  const times: number[] = [];
  let size = 0;
  const t0 = performance.now();
  for (let pos = 0; pos < MIB << 20; pos += WINDOW) {
    if (pos + WINDOW > size) ftruncateSync(fd, (size += STEP));
    const t = performance.now();
    calls!.populate(address + pos, WINDOW);
    times.push(performance.now() - t);
    if (pos >= WINDOW) calls!.release(address + pos - WINDOW, WINDOW);
  }
  const total = performance.now() - t0;
  calls!.unmap(address, MAPPING);
  closeSync(fd);
  rmSync(path);
  times.sort((a, b) => a - b);
  return { p50: times[times.length >> 1]!, max: times[times.length - 1]!, total };
}

for (let r = 0; r < RUNS; r++) {
  for (const readAround of r % 2 === 0 ? [false, true] : [true, false]) {
    const s = run(readAround);
    console.log(
      `${readAround ? "MADV_NORMAL (read-around)" : "MADV_RANDOM (the broker)"}: ${MIB} MiB in ${WINDOW >> 10} KiB windows, per window median ${s.p50.toFixed(3)} ms, max ${s.max.toFixed(2)} ms; total ${s.total.toFixed(1)} ms`,
    );
  }
}
rmSync(dir, { recursive: true, force: true });
