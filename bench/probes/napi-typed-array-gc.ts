/**
 * What napi typed-array arguments cost the garbage collector (session 10, issue #6).
 *
 * Allocates ~10 MiB/s of garbage (like the broker's socket reads at 10 MiB/s) and, in the
 * engine modes, submits ten 1 KiB writes plus a flush to the native I/O engine every millisecond,
 * the way src/log/native-segment-file.ts does:
 *   empty    garbage only
 *   fresh    the submit's kind/position/token columns built per call with Uint8Array.from etc.
 *            (what the engine did before session 10)
 *   reused   the columns as views of arrays kept across calls (src/log/op-columns.ts)
 * Run with the collector log on and summarise the young-generation pauses:
 *   BUN_JSC_logGC=1 bun bench/probes/napi-typed-array-gc.ts fresh 2>&1 | \
 *     grep -o "=> EdenCollection.*p=[0-9.]*ms" | sed -E 's/.*p=([0-9.]+)ms/\1/' | sort -n | \
 *     awk '{a[NR]=$1; s+=$1} END {printf "n=%d avg=%.2f p50=%.2f max=%.2f ms\n", NR, s/NR, a[int(NR/2)], a[NR]}'
 * Results: bench/RESULTS.md, session 10.
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createIoEngine } from "../../src/native/index.ts";

const mode = process.argv[2] ?? "empty";
if (!["empty", "fresh", "reused"].includes(mode)) throw new Error(`unknown mode ${mode}`);
const dir = join(import.meta.dir, "..", "..", ".cache");
mkdirSync(dir, { recursive: true });
const path = join(dir, "napi-typed-array-gc.dat");
const engine = createIoEngine("auto", () => engine.takeCompletions());
const file = engine.open(path);
const source = Buffer.alloc(4 << 20);
const kindsKept = new Uint8Array(new ArrayBuffer(64));
const positionsKept = new Float64Array(new ArrayBuffer(64 * 8));
const tokensKept = new Uint32Array(new ArrayBuffer(64 * 4));
let at = 0;
let position = 0;
let sink = 0;
const end = performance.now() + 8000;

function tick(): void {
  const files = [];
  const kinds: number[] = [];
  const positions: number[] = [];
  const data: Uint8Array[] = [];
  for (let i = 0; i < 10; i++) {
    const garbage = Buffer.allocUnsafeSlow(1024);
    garbage[0] = i;
    sink += garbage.length;
    files.push(file);
    kinds.push(0);
    positions.push(position);
    data.push(source.subarray(at, at + 1024));
    at = (at + 1024) % (3 << 20);
    position += 1024;
  }
  files.push(file);
  kinds.push(2); // flush: start the writes, no fsync
  positions.push(0);
  const n = kinds.length;
  if (mode === "fresh") {
    engine.submit(files, Uint8Array.from(kinds), Float64Array.from(positions), new Uint32Array(n), data, 0);
  } else if (mode === "reused") {
    kindsKept.set(kinds);
    positionsKept.set(positions);
    engine.submit(files, kindsKept.subarray(0, n), positionsKept.subarray(0, n), tokensKept.subarray(0, n), data, 0);
  }
  if (performance.now() < end) setTimeout(tick, 1);
  else {
    file.close();
    rmSync(path, { force: true });
    console.log(`done (${sink} bytes of garbage)`);
    process.exit(0);
  }
}
tick();
