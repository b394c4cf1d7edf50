import { describe, expect, test } from "bun:test";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { PartitionLog } from "../../../src/log/partition-log.ts";
import { parseSnapshotFileName } from "../../../src/log/producer-snapshot.ts";
import { ErrorCode } from "../../../src/protocol/record-batch.ts";
import { readLocalManifest } from "../../../src/tiering/manifest.ts";
import { TierManager } from "../../../src/tiering/tier-manager.ts";
import { buildBatch, sampleRecords, splitBatches } from "../log/batch-builder.ts";
import { LOG_CONFIG, drain, openTieredLog, readAny, tempRoot, tierConfigFor, tieredSettings, type TieredLog } from "./helpers.ts";

const T0 = 1_700_000_000_000;
const PREFIX = "cluster/t-TOPICID/0/";

function idem(pid: number, seq: number, n = 10): Uint8Array {
  return buildBatch(sampleRecords(n, T0 + seq, 120), { producerId: pid, producerEpoch: 0, baseSequence: seq });
}

async function append(log: PartitionLog, bytes: Uint8Array): Promise<number> {
  const r = log.append(bytes, Date.now());
  expect(r.errorCode).toBe(ErrorCode.NONE);
  await r.durable;
  return r.baseOffset;
}

/** Producer 9 writes 3 batches at the very start, producer 1 then fills many segments. */
async function fill(t: TieredLog): Promise<number[]> {
  const offsets: number[] = [];
  for (let i = 0; i < 3; i++) offsets.push(await append(t.log, idem(9, i * 10)));
  for (let i = 0; i < 60; i++) await append(t.log, idem(1, i * 10));
  await t.log.flush();
  return offsets;
}

function localSnapshots(log: PartitionLog): number[] {
  return readdirSync(log.dir)
    .map(parseSnapshotFileName)
    .filter((o): o is number => o !== null);
}

async function reopenTiered(t: TieredLog): Promise<TieredLog> {
  const log = await PartitionLog.open(join(t.root, "t-0"), "t", 0, LOG_CONFIG);
  const messages: string[] = [];
  const tier = new TierManager(tierConfigFor(t.root), t.store, "cluster", (m) => messages.push(m));
  const self: TieredLog = { ...t, log, tier, messages };
  tier.attach(log, "TOPICID", () => self.settings);
  return self;
}

describe("producer state with tiering", () => {
  test("each segment's snapshot is uploaded with it and named in the manifest", async () => {
    const t = await openTieredLog(tempRoot());
    await fill(t);
    await drain(t);
    const manifest = readLocalManifest(t.log.dir)!;
    expect(manifest.segments.length).toBeGreaterThan(10);
    const keys = new Set((await t.fs.list(PREFIX)).map((o) => o.key));
    for (const s of manifest.segments) {
      expect(s.producerSnapshot).toBe(true);
      expect(keys.has(`${PREFIX}${String(s.baseOffset).padStart(20, "0")}.snapshot`)).toBe(true);
    }
    // Local retention removed the segments and the snapshots below the first local segment.
    expect(localSnapshots(t.log).every((o) => o >= t.log.localLogStartOffset)).toBe(true);
    await t.log.close();
  });

  test("a failed snapshot upload keeps the segment out of the manifest until it is retried", async () => {
    const t = await openTieredLog(tempRoot());
    await fill(t);
    t.store.failPutMatching = /\.snapshot$/;
    await expect(t.tier.runOnce()).rejects.toThrow("injected");
    const first = readLocalManifest(t.log.dir);
    const keys = new Set((await t.fs.list(PREFIX)).map((o) => o.key));
    for (const s of first?.segments ?? []) expect(keys.has(`${PREFIX}${String(s.baseOffset).padStart(20, "0")}.snapshot`)).toBe(true);
    await drain(t);
    expect(readLocalManifest(t.log.dir)!.segments.every((s) => s.producerSnapshot === true)).toBe(true);
    await t.log.close();
  });

  test("restart with only remote history: local snapshot kept, or restored from the remote one; retries dedupe", async () => {
    const t = await openTieredLog(tempRoot());
    const p9 = await fill(t);
    await drain(t);
    expect(t.log.localLogStartOffset).toBeGreaterThan(p9[2] as number); // producer 9's batches are remote-only
    const end = t.log.logEndOffset;
    await t.log.close();

    // 1. Plain restart: the local snapshot at the first local segment carries producer 9.
    const a = await reopenTiered(t);
    expect(a.log.producerStateGap).toBeNull();
    expect(a.log.append(idem(9, 20), Date.now())).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: p9[2] });
    expect(a.log.logEndOffset).toBe(end);
    await a.log.close();

    // 2. Local snapshots lost: the state is rebuilt from local batches (producer 9 unknown) until
    //    the first tiering pass restores it from the newest remote snapshot inside the local log.
    for (const o of localSnapshots(a.log)) rmSync(join(a.log.dir, `${String(o).padStart(20, "0")}.snapshot`));
    const b = await reopenTiered(t);
    expect(b.log.producerStateGap).toBe(b.log.localLogStartOffset);
    expect(b.log.activeProducers().map((p) => p.producerId)).toEqual([1]);
    await b.tier.runOnce();
    expect(b.messages.some((m) => m.includes("restored producer state of t-0 from the remote snapshot"))).toBe(true);
    expect(b.log.producerStateGap).toBeNull();
    expect(b.log.activeProducers().find((p) => p.producerId === 9)?.lastSequence).toBe(29);
    const retry = b.log.append(idem(9, 20), Date.now());
    expect(retry).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: p9[2] });
    expect(b.log.logEndOffset).toBe(end);
    expect(b.log.append(idem(9, 40), Date.now()).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    const next = b.log.append(idem(9, 30), Date.now());
    expect(next).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: end });
    await next.durable;
    const batches = splitBatches(await readAny(b, end, 1 << 20));
    expect(batches.map((x) => x.baseOffset)).toEqual([end]);
    // The restored snapshot is local again: the next restart needs no store.
    await b.log.close();
    const c = await reopenTiered(t);
    expect(c.log.producerStateGap).toBeNull();
    await c.log.close();
  });

  test("a corrupt remote snapshot is reported and skipped for an older one inside the local log", async () => {
    const t = await openTieredLog(tempRoot(), tieredSettings({ localRetentionBytes: 20_000 }));
    const p9 = await fill(t);
    await drain(t);
    await t.log.close();
    for (const o of localSnapshots(t.log)) rmSync(join(t.log.dir, `${String(o).padStart(20, "0")}.snapshot`));
    const b = await reopenTiered(t);
    const gap = b.log.producerStateGap!;
    expect(gap).toBeGreaterThan(p9[2] as number);
    const inside = readLocalManifest(t.log.dir)!.segments.filter((s) => s.endOffset >= gap);
    expect(inside.length).toBeGreaterThan(1);
    const newest = inside[inside.length - 1]!;
    const older = inside[inside.length - 2]!;
    const key = `${PREFIX}${String(newest.baseOffset).padStart(20, "0")}.snapshot`;
    const bytes = (await t.fs.get(key))!;
    bytes[30] = (bytes[30] as number) ^ 1;
    await t.fs.put(key, bytes);
    await b.tier.runOnce();
    expect(b.messages.some((m) => m.includes("unusable"))).toBe(true);
    expect(b.log.producerStateLoad.snapshotOffset).toBe(older.endOffset);
    expect(b.log.append(idem(9, 20), Date.now()).baseOffset).toBe(p9[2]!);
    await b.log.close();
  });

  test("remote retention deletes snapshot objects with their segments; the sweep removes orphan snapshots", async () => {
    const t = await openTieredLog(tempRoot());
    await fill(t);
    await drain(t);
    const before = readLocalManifest(t.log.dir)!.segments.length;
    await t.fs.put(`${PREFIX}${"9".repeat(20)}.snapshot`, new Uint8Array([1, 2, 3]));
    t.settings = tieredSettings({ retentionBytes: 30_000 });
    await t.tier.runOnce();
    const kept = readLocalManifest(t.log.dir)!.segments;
    expect(kept.length).toBeLessThan(before);
    const snaps = (await t.fs.list(PREFIX)).map((o) => o.key).filter((k) => k.endsWith(".snapshot"));
    // Only the kept segments' snapshots, plus the orphan (no sweep yet in this manager).
    expect(snaps.sort()).toEqual(
      [...kept.map((s) => `${PREFIX}${String(s.baseOffset).padStart(20, "0")}.snapshot`), `${PREFIX}${"9".repeat(20)}.snapshot`].sort(),
    );
    await t.log.close();
    const b = await reopenTiered(t);
    await b.tier.runOnce();
    const after = (await t.fs.list(PREFIX)).map((o) => o.key).filter((k) => k.endsWith(".snapshot"));
    expect(after).not.toContain(`${PREFIX}${"9".repeat(20)}.snapshot`);
    expect(after.length).toBe(kept.length);
    await b.log.close();
  });
});
