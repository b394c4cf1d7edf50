/**
 * CRC-32C: native addon (Rust, crc32c crate; called through bun:ffi, and through its napi export
 * for comparison) vs the pure-JS `crc-32` package.
 *
 *   bun bench/crc32c.bench.ts
 *
 * Both implementations are measured in the same run, on the same buffers, and
 * the table reports ops/s, MB/s (1 MB = 10^6 bytes) and native/JS speed ratio.
 * Buffers are deliberately views with a non-zero byteOffset, as in the broker,
 * where record batches are slices of a larger network read.
 */
import { Bench, type Task } from "tinybench";
import * as CRC32C from "crc-32/crc32c";
import { crc32c, crc32cRange, crc32cViaNapi, nativeInfo } from "../src/native/index.ts";

const SIZES: Array<[label: string, bytes: number]> = [
  ["1 KiB", 1024],
  ["64 KiB", 64 * 1024],
  ["1 MiB", 1024 * 1024],
];

function randomView(n: number): Uint8Array {
  const backing = new Uint8Array(n + 64);
  crypto.getRandomValues(backing.subarray(0, Math.min(backing.length, 65536)));
  for (let i = 65536; i < backing.length; i++) backing[i] = (i * 2654435761) >>> 24;
  return backing.subarray(13, 13 + n); // odd byteOffset on purpose
}

let sink = 0; // keeps results observable so nothing is optimised away

const bench = new Bench({ name: "crc32c", time: 750, warmupTime: 150 });
const views = new Map<string, Uint8Array>();
for (const [label, n] of SIZES) {
  const view = randomView(n);
  views.set(label, view);
  if (crc32c(view) !== CRC32C.buf(view) >>> 0) throw new Error(`mismatch at ${label}`);
  const parent = new Uint8Array(view.buffer);
  const start = view.byteOffset;
  bench
    .add(`native ${label}`, () => {
      sink ^= crc32c(view);
    })
    .add(`native-range ${label}`, () => {
      sink ^= crc32cRange(parent, start, start + n);
    })
    .add(`napi ${label}`, () => {
      sink ^= crc32cViaNapi(view);
    })
    .add(`js ${label}`, () => {
      sink ^= CRC32C.buf(view);
    });
}

await bench.run();

function opsPerSec(task: Task | undefined): number {
  const r = task?.result;
  if (!r || !("period" in r) || r.period <= 0) return Number.NaN;
  return 1000 / r.period; // mean over all measured runs
}

const byName = new Map(bench.tasks.map((t) => [t.name, t]));
const fmt = (x: number, digits = 0) =>
  Number.isFinite(x) ? x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }) : "n/a";

const rows = SIZES.map(([label, n]) => {
  const nat = opsPerSec(byName.get(`native ${label}`));
  const rng = opsPerSec(byName.get(`native-range ${label}`));
  const js = opsPerSec(byName.get(`js ${label}`));
  const napi = opsPerSec(byName.get(`napi ${label}`));
  return {
    size: label,
    "native ops/s": fmt(nat),
    "native MB/s": fmt((nat * n) / 1e6),
    "range ops/s": fmt(rng),
    "range MB/s": fmt((rng * n) / 1e6),
    "js ops/s": fmt(js),
    "js MB/s": fmt((js * n) / 1e6),
    "napi ops/s": fmt(napi),
    "native/napi": `${fmt(nat / napi, 1)}x`,
    "native/js": `${fmt(nat / js, 1)}x`,
  };
});

console.log(
  `CRC-32C, Bun ${Bun.version} on ${process.platform}/${process.arch}, native impl: ${nativeInfo().crcImpl}, called through ${nativeInfo().crcCall} ("napi" = the napi export directly)`,
);
console.table(rows);
if (sink === 0.5) console.log("unreachable"); // use sink
