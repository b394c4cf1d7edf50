/**
 * Kernel + user CPU per MiB appended, pwrite against the shared mapping of mapped-segment-file.ts,
 * by append size and number of files (appends go round-robin over the files, as a produce request
 * spreads over partitions). Sets the size below which the broker appends through the mapping
 * (MAPPED_BELOW_BYTES): a page first written through the mapping costs more kernel time than a
 * page written by pwrite, so the mapping only wins where the per-call cost dominates.
 *
 *   bun bench/mapped-append.bench.ts [MiB per case]
 */
import * as fs from "node:fs";
import { join } from "node:path";
import { MappedSegmentFile } from "../src/log/mapped-segment-file.ts";
import { fileMapping } from "../src/native/file-mapping.ts";

const MIB = Number(process.argv[2] ?? 256);
const calls = fileMapping();
if (calls === null) throw new Error("the mapping calls are not available here");
const dir = join(import.meta.dir, "..", ".cache", "mapped-append-bench");

interface Appender {
  write(buf: Uint8Array): void;
  close(): void;
}

function pwriteFile(path: string): Appender {
  const fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
  let size = 0;
  return {
    write(buf) {
      fs.writeSync(fd, buf, 0, buf.length, size);
      size += buf.length;
    },
    close: () => fs.closeSync(fd),
  };
}

function run(files: number, size: number, mode: "pwrite" | "mapped"): number {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const open = (i: number): Appender =>
    mode === "pwrite" ? pwriteFile(join(dir, `${i}.log`)) : new MappedSegmentFile(join(dir, `${i}.log`), calls!, Infinity);
  const appenders = Array.from({ length: files }, (_, i) => open(i));
  const record = new Uint8Array(size).fill(7);
  const writes = Math.floor((MIB * 1024 * 1024) / size);
  const c0 = process.cpuUsage();
  for (let i = 0; i < writes; i++) (appenders[i % files] as Appender).write(record);
  const cpu = process.cpuUsage(c0);
  for (const a of appenders) a.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return (cpu.user + cpu.system) / MIB;
}

console.log(`CPU µs per MiB appended (${MIB} MiB per case, user + system of this process)`);
console.log("files  append   pwrite   mapped   mapped/pwrite");
for (const files of [1, 1000]) {
  for (const size of [512, 1024, 2048, 4096, 16384, 65536]) {
    if (files === 1000 && size > 4096) continue;
    const p = run(files, size, "pwrite");
    const m = run(files, size, "mapped");
    console.log(`${String(files).padStart(5)}  ${String(size).padStart(6)}  ${p.toFixed(0).padStart(7)}  ${m.toFixed(0).padStart(7)}   ${(m / p).toFixed(2)}`);
  }
}
