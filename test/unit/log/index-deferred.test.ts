// Index entries are written in groups (src/log/index-file-writer.ts), not one write per entry:
// the file lags memory while the segment is active, is complete after close and at seal, and a
// crash that loses pending entries only costs a rebuild on open — lookups stay right throughout.
import { describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { PartitionLog } from "../../../src/log/partition-log.ts";
import { buildBatch, sampleRecords, splitBatches } from "./batch-builder.ts";
import { config, tempDir } from "./helpers.ts";

const T0 = 1_700_000_000_000;

async function appendMany(log: PartitionLog, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = log.append(buildBatch(sampleRecords(2, T0 + i * 10)), T0);
    expect(r.errorCode).toBe(0);
    await r.durable;
  }
}

function indexSizes(dir: string): number[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith(".index"))
    .sort()
    .map((n) => statSync(join(dir, n)).size);
}

describe("deferred index writes", () => {
  test("the active index file lags memory until close; then it is complete and trusted on reopen", async () => {
    const dir = tempDir();
    const cfg = config({ indexIntervalBytes: 100 }); // an entry for about every batch
    const log = await PartitionLog.open(dir, "t", 0, cfg);
    await appendMany(log, 40); // fewer entries than one group
    expect(indexSizes(dir)).toEqual([0]);
    await appendMany(log, 100); // more than one group: written in whole groups only
    const [size] = indexSizes(dir);
    expect(size! % (64 * 8)).toBe(0);
    expect(size!).toBeGreaterThan(0);
    await log.close();
    const complete = indexSizes(dir)[0]!;
    expect(complete).toBeGreaterThan(size!);
    expect(complete % 8).toBe(0);
    const reopened = await PartitionLog.open(dir, "t", 0, cfg);
    expect(indexSizes(dir)[0]).toBe(complete); // not rebuilt: it was exactly right
    for (let o = 0; o < 280; o += 13) expect(splitBatches(reopened.read(o, 1).records!)[0]!.baseOffset).toBe(o - (o % 2));
    await reopened.close();
  });

  test("sealed segments have complete index files; a crash losing pending entries is repaired on open", async () => {
    const dir = tempDir();
    const cfg = config({ indexIntervalBytes: 100, segmentBytes: 8192 });
    const log = await PartitionLog.open(dir, "t", 0, cfg);
    await appendMany(log, 300);
    expect(log.segmentCount).toBeGreaterThan(2);
    // "Crash": copy the files as they are now (pending entries of the active segment not written).
    const crashed = join(dir, "..", "crashed-0");
    mkdirSync(crashed, { recursive: true });
    for (const n of readdirSync(dir)) copyFileSync(join(dir, n), join(crashed, n));
    const sizes = indexSizes(crashed);
    // every sealed segment's index is whole (an entry per ~batch: far more than zero)
    for (const s of sizes.slice(0, -1)) expect(s).toBeGreaterThan(8 * 10);
    await log.close();
    const recovered = await PartitionLog.open(crashed, "t", 0, cfg);
    expect(recovered.logEndOffset).toBe(600);
    for (let o = 0; o < 600; o += 11) expect(splitBatches(recovered.read(o, 1).records!)[0]!.baseOffset).toBe(o - (o % 2));
    expect(recovered.offsetForTimestamp(T0 + 2555)).toEqual({ offset: 512, timestamp: T0 + 2560 });
    await recovered.close();
    // the repaired file equals the one a clean close wrote
    expect(indexSizes(crashed)).toEqual(indexSizes(dir));
  });
});
