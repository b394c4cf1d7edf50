// The partition log on the native segment I/O backends (io_uring where this machine allows it,
// pwrite on the worker thread always): group commit, ordering, reads of unsynced data, rolls,
// recovery and cross-backend reopen, and a write error (EFBIG under RLIMIT_FSIZE, in a child
// process) failing the covered appends without leaving a partial batch.
import { describe, expect, test } from "bun:test";
import { appendFileSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ioUringProbe } from "../../../src/native/index.ts";
import { ioEngine, segmentIoFor } from "../../../src/log/native-segment-file.ts";
import { PartitionLog } from "../../../src/log/partition-log.ts";
import { writeBehindCounters } from "../../../src/log/segment-file.ts";
import { ErrorCode } from "../../../src/protocol/record-batch.ts";
import { buildBatch, sampleRecords, splitBatches } from "./batch-builder.ts";
import { config, tempDir } from "./helpers.ts";

const T0 = 1_700_000_000_000;
const REPO = join(import.meta.dir, "..", "..", "..");
const MODES = (ioUringProbe() === "" ? ["io_uring", "pwrite"] : ["pwrite"]) as ("io_uring" | "pwrite")[];

for (const mode of MODES) {
  const files = segmentIoFor(mode).files;
  const open = (dir: string, cfg = config()) => PartitionLog.open(dir, "t", 0, cfg, { files });

  describe(`partition log on ${mode}`, () => {
    test("100 concurrent appends share a handful of fsyncs", async () => {
      const log = await open(tempDir());
      const before = ioEngine(mode).stats().fdatasyncs;
      const results = Array.from({ length: 100 }, () => log.append(buildBatch(sampleRecords(2)), T0));
      expect(results.map((r) => r.baseOffset)).toEqual(Array.from({ length: 100 }, (_, i) => i * 2));
      await Promise.all(results.map((r) => r.durable));
      const fsyncs = ioEngine(mode).stats().fdatasyncs - before;
      expect(fsyncs).toBeGreaterThanOrEqual(1);
      expect(fsyncs).toBeLessThanOrEqual(3);
      expect(log.syncCount).toBeLessThanOrEqual(3);
      expect(log.highWatermark).toBe(200);
      await log.close();
    });

    test("appends and syncs of many partitions in one turn reach the engine in one or two native calls", async () => {
      const logs = await Promise.all(Array.from({ length: 20 }, () => open(tempDir())));
      const engine = ioEngine(mode);
      const submits0 = engine.submits;
      const wakeups0 = engine.stats().wakeups;
      const results = logs.map((log) => log.append(buildBatch(sampleRecords(3)), T0));
      await Promise.all(results.map((r) => r.durable));
      // the 20 writes and the 20 group-commit syncs of this turn: one submit (two if the syncs
      // missed the first), and the worker woken once or twice, not once per partition
      expect(engine.submits - submits0).toBeLessThanOrEqual(2);
      expect(engine.stats().wakeups - wakeups0).toBeLessThanOrEqual(3);
      for (const log of logs) {
        expect(log.highWatermark).toBe(3);
        expect(splitBatches(log.read(0, 1 << 20).records!).length).toBe(1);
        await log.close();
      }
    });

    test("one submit of more ops than the reused op columns first hold (200 partitions: 400 ops) writes every batch where it belongs", async () => {
      const logs = await Promise.all(Array.from({ length: 200 }, () => open(tempDir())));
      const engine = ioEngine(mode);
      const submits0 = engine.submits;
      // distinct record counts per partition, so a write landing in another partition's file shows
      const results = logs.map((log, i) => log.append(buildBatch(sampleRecords(1 + (i % 5))), T0));
      await Promise.all(results.map((r) => r.durable));
      expect(engine.submits - submits0).toBeLessThanOrEqual(2);
      for (const [i, log] of logs.entries()) {
        await log.close();
        const reopened = await open(log.dir); // recovery reads the file itself
        expect(reopened.highWatermark).toBe(1 + (i % 5));
        await reopened.close();
      }
    });

    test("an append on an idle engine is written and fdatasynced inline (no worker round trip), and is in the file", async () => {
      const dir = tempDir();
      const log = await open(dir);
      await Promise.all([log.append(buildBatch(sampleRecords(1)), T0).durable]); // warm: segment files open
      const engine = ioEngine(mode);
      engine.resetInlineBackoff(); // a slow fsync earlier in this process may have turned it off
      const before = engine.stats();
      const r = log.append(buildBatch(sampleRecords(2)), T0);
      await r.durable;
      const after = engine.stats();
      expect(after.inlineSyncs - before.inlineSyncs).toBe(1);
      expect(after.wakeups - before.wakeups).toBe(0);
      expect(log.highWatermark).toBe(3);
      const logFile = readdirSync(dir).find((f) => f.endsWith(".log"))!;
      expect(statSync(join(dir, logFile)).size).toBe(log.read(0, 1 << 20).records!.length);
      await log.close();
    });

    test("a flush-interval file's sync covering more than the inline limit of earlier writes goes to the worker, not the event loop", async () => {
      // Writes acknowledged through write barriers stay dirty until a sync: at a roll that was a
      // whole segment, and its fdatasync ran inline on the JS thread for 0.7-0.9 s.
      const log = await open(tempDir(), config({ flushIntervalMessages: 1_000_000 }));
      const engine = ioEngine(mode);
      for (let i = 0; i < 4; i++) await log.append(buildBatch(sampleRecords(20, T0, 1000)), T0).durable; // ~80 KB, barriers only
      engine.resetInlineBackoff();
      const s0 = engine.stats();
      await log.flush();
      const s1 = engine.stats();
      expect(s1.fdatasyncs - s0.fdatasyncs).toBeGreaterThanOrEqual(1);
      expect(s1.inlineSyncs - s0.inlineSyncs).toBe(0);
      // a small span since that sync may still go inline
      await log.append(buildBatch(sampleRecords(2, T0, 100)), T0).durable;
      engine.resetInlineBackoff();
      await log.flush();
      expect(engine.stats().inlineSyncs - s1.inlineSyncs).toBe(1);
      expect(log.highWatermark).toBe(82);
      await log.close();
    });

    test("a flush-interval file writes behind every 8 MiB it has written; a durable one, synced all along, does not", async () => {
      const cfg = { segmentBytes: 64 << 20 };
      const batch = () => buildBatch(sampleRecords(10, T0, 50_000)); // ~500 KB
      const lazy = await open(tempDir(), config({ ...cfg, flushIntervalMessages: 1_000_000 }));
      const before = { ...writeBehindCounters };
      for (let i = 0; i < 40; i++) await lazy.append(batch(), T0).durable; // ~20 MB through barriers
      expect(writeBehindCounters.calls - before.calls).toBeGreaterThanOrEqual(2);
      expect(writeBehindCounters.bytes - before.bytes).toBeGreaterThanOrEqual(16 << 20);
      expect(writeBehindCounters.bytes - before.bytes).toBeLessThanOrEqual(lazy.read(0, 64 << 20).records!.length);
      // the bytes stay exactly what was appended
      const reopenedEnd = lazy.logEndOffset;
      await lazy.close();
      const again = await open(lazy.dir, config({ ...cfg, flushIntervalMessages: 1_000_000 }));
      expect(again.logEndOffset).toBe(reopenedEnd);
      await again.close();

      const durable = await open(tempDir(), config(cfg));
      const mid = writeBehindCounters.calls;
      for (let i = 0; i < 40; i++) await durable.append(batch(), T0).durable;
      expect(writeBehindCounters.calls).toBe(mid);
      await durable.close();
    });

    test("a slow inline fsync turns the inline path off, so the event loop is not held by a slow disk", async () => {
      const log = await open(tempDir());
      await log.append(buildBatch(sampleRecords(1)), T0).durable;
      const engine = ioEngine(mode);
      engine.resetInlineBackoff();
      const slowMs = engine.inlineSlowMs;
      engine.inlineSlowMs = -1; // every inline submit counts as slow
      try {
        const backoffs = engine.inlineBackoffs;
        const s0 = engine.stats();
        await log.append(buildBatch(sampleRecords(1)), T0).durable; // inline, found slow
        const s1 = engine.stats();
        expect(s1.inlineSyncs - s0.inlineSyncs).toBe(1);
        expect(engine.inlineBackoffs).toBe(backoffs + 1);
        await log.append(buildBatch(sampleRecords(1)), T0).durable; // backed off: the worker syncs it
        const s2 = engine.stats();
        expect(s2.inlineSyncs - s1.inlineSyncs).toBe(0);
        expect(log.highWatermark).toBe(3);
      } finally {
        engine.inlineSlowMs = slowMs;
        engine.resetInlineBackoff();
        await log.close();
      }
    });

    test("acks resolve in order; unsynced data is readable up to the log end but not below the HW", async () => {
      const log = await open(tempDir());
      const order: number[] = [];
      const rs = Array.from({ length: 30 }, (_, i) => {
        const r = log.append(buildBatch(sampleRecords(1)), T0);
        void r.durable.then(() => order.push(i));
        return r;
      });
      // the bytes may still be queued for the worker: reads must see them anyway
      const all = log.read(0, 1 << 20, log.logEndOffset);
      expect(splitBatches(all.records!).map((b) => b.baseOffset)).toEqual(Array.from({ length: 30 }, (_, i) => i));
      await Promise.all(rs.map((r) => r.durable));
      expect(order).toEqual(Array.from({ length: 30 }, (_, i) => i));
      expect(log.highWatermark).toBe(30);
      await log.close();
    });

    test("flush-interval mode on this engine: acks and high watermark wait for the write barrier, not for fdatasync", async () => {
      // Its writes are queued to a native thread: an ack before the write reached the kernel could
      // die with the process (kill -9), so acks wait until the worker has written the bytes; the
      // periodic flush (flush.messages) is the only fdatasync.
      const dir = tempDir();
      const log = await open(dir, config({ flushIntervalMessages: 1000, segmentBytes: 2048 }));
      const before = ioEngine(mode).stats().fdatasyncs;
      for (let i = 0; i < 25; i++) {
        const r = log.append(buildBatch(sampleRecords(1)), T0);
        expect(log.highWatermark).toBe(i);
        await r.durable;
        expect(log.highWatermark).toBe(i + 1);
        const got = log.read(i, 1 << 20);
        expect(got.errorCode).toBe(0);
        expect(splitBatches(got.records!)[0]!.baseOffset).toBe(i);
      }
      expect(log.segmentCount).toBeGreaterThan(1); // barriers also covered the rolled segments
      // Acknowledged = in the file: every byte below the high watermark is there, read with plain fs.
      const onDisk = readdirSync(dir)
        .filter((f) => f.endsWith(".log"))
        .sort()
        .map((f) => readFileSync(join(dir, f)));
      expect(splitBatches(new Uint8Array(Buffer.concat(onDisk))).length).toBe(25);
      // Rolls ask for a background fdatasync of the sealed segment; no ack asked for one.
      expect(ioEngine(mode).stats().fdatasyncs - before).toBeLessThan(25);
      await log.close();
    });

    test("flush-interval mode on this engine: the appends of many partitions in one turn share one write barrier", async () => {
      const logs = await Promise.all(Array.from({ length: 20 }, () => open(tempDir(), config({ flushIntervalMessages: 100_000 }))));
      const engine = ioEngine(mode);
      for (let round = 1; round <= 3; round++) {
        const submits0 = engine.submits;
        const results = logs.flatMap((log) => [log.append(buildBatch(sampleRecords(2)), T0), log.append(buildBatch(sampleRecords(1)), T0)]);
        // one promise per partition and turn, not one per append
        for (let i = 0; i < results.length; i += 2) expect(results[i]!.durable).toBe(results[i + 1]!.durable);
        await Promise.all(results.map((r) => r.durable));
        // the 40 writes and one barrier entry per file: one native call
        expect(engine.submits - submits0).toBe(1);
        for (const log of logs) expect(log.highWatermark).toBe(round * 3);
      }
      for (const log of logs) await log.close();
    });

    test("acks=1 promise (untilWritten): the bytes are in the file when it resolves, in both modes", async () => {
      for (const cfg of [config(), config({ flushIntervalMessages: 1000 })]) {
        const dir = tempDir();
        const log = await open(dir, cfg);
        const r = log.append(buildBatch(sampleRecords(3)), T0);
        await log.untilWritten(r);
        const logFile = readdirSync(dir).find((f) => f.endsWith(".log"))!;
        expect(splitBatches(new Uint8Array(readFileSync(join(dir, logFile))))).toHaveLength(1);
        // Already written: a later call resolves without another barrier.
        await log.untilWritten(r);
        await r.durable;
        await log.close();
      }
    });

    test("rolls, indexes and recovery: reopened by the js backend and by this one, identical", async () => {
      const dir = tempDir();
      const cfg = config({ segmentBytes: 4096, indexIntervalBytes: 256 });
      const log = await open(dir, cfg);
      const rs = [];
      for (let i = 0; i < 200; i++) rs.push(log.append(buildBatch(sampleRecords(1 + (i % 3))), T0 + i));
      await Promise.all(rs.map((r) => r.durable));
      expect(log.segmentCount).toBeGreaterThan(5);
      const end = log.logEndOffset;
      const bytes = log.read(0, 1 << 24).records!;
      await log.close();
      for (const reopen of [() => PartitionLog.open(dir, "t", 0, cfg), () => open(dir, cfg)]) {
        const again = await reopen();
        expect(again.logEndOffset).toBe(end);
        expect(Buffer.from(again.read(0, 1 << 24).records!).equals(Buffer.from(bytes))).toBe(true);
        // index lookups land on the right batch in every segment
        for (const off of [0, 17, 123, end - 1]) {
          expect(splitBatches(again.read(off, 1).records!)[0]!.baseOffset).toBeLessThanOrEqual(off);
        }
        await again.close();
      }
    });

    test("recovery truncates a torn tail written behind the log's back", async () => {
      const dir = tempDir();
      const log = await open(dir);
      await Promise.all([0, 1, 2].map(() => log.append(buildBatch(sampleRecords(2)), T0).durable));
      await log.close();
      const seg = join(dir, readdirSync(dir).find((n) => n.endsWith(".log"))!);
      const good = statSync(seg).size;
      appendFileSync(seg, buildBatch(sampleRecords(2)).subarray(0, 40));
      const again = await open(dir);
      expect(again.logEndOffset).toBe(6);
      expect(statSync(seg).size).toBe(good);
      const r = again.append(buildBatch(sampleRecords(1)), T0);
      expect(r.baseOffset).toBe(6);
      await r.durable;
      await again.close();
    });
  });
}

/**
 * Runs `script` in a child Bun whose file size limit is 64 KiB (SIGXFSZ ignored, so a write past it
 * fails with EFBIG) and returns the JSON object its last output line holds.
 */
async function runUnderFileSizeLimit(script: string, mode: string): Promise<Record<string, number | string | boolean>> {
  const proc = Bun.spawn({
    cmd: ["bash", "-c", `trap '' XFSZ; ulimit -f 64; exec "${process.execPath}" "${script}"`],
    cwd: REPO,
    env: { ...process.env, BUN_RUNTIME_TRANSPILER_CACHE_PATH: "0" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`child (${mode}) exited ${code}: ${err}`);
  return JSON.parse(out.trim().split("\n").pop()!) as Record<string, number | string | boolean>;
}

test("write error (EFBIG): covered appends fail, the log stops, nothing torn is left, reopen recovers", async () => {
  const dir = tempDir();
  const script = join(REPO, ".cache", `segment-io-efbig-${process.pid}.ts`);
  const results: Record<string, unknown>[] = [];
  try {
    for (const mode of MODES) {
      const logDir = `${dir}-${mode}`;
      writeFileSync(
        script,
        `
        import { PartitionLog } from "${REPO}/src/log/partition-log.ts";
        import { segmentIoFor } from "${REPO}/src/log/native-segment-file.ts";
        import { buildBatch, sampleRecords } from "${REPO}/test/unit/log/batch-builder.ts";
        const files = segmentIoFor("${mode}").files;
        const config = () => (${JSON.stringify(config())});
        const log = await PartitionLog.open("${logDir}", "t", 0, config(), { files });
        let acked = 0, failed = 0, firstError = "";
        for (let round = 0; round < 40 && !log.failed; round++) {
          const rs = Array.from({ length: 5 }, () => log.append(buildBatch(sampleRecords(4, 1_700_000_000_000, 500)), 1_700_000_000_000));
          for (const r of rs) {
            if (r.errorCode !== 0) { failed++; firstError ||= "append " + r.errorCode; continue; }
            try { await r.durable; acked++; } catch (e) { failed++; firstError ||= (e as Error).message; }
          }
        }
        const hw = log.highWatermark;
        const afterFail = log.append(buildBatch(sampleRecords(1)), 1_700_000_000_000).errorCode;
        await log.close();
        const again = await PartitionLog.open("${logDir}", "t", 0, config());
        console.log(JSON.stringify({ acked, failed, firstError, hw, afterFail, failedFlag: true, reopenedEnd: again.logEndOffset, reopenedFailed: again.failed }));
        await again.close();
      `,
      );
      const res = await runUnderFileSizeLimit(script, mode);
      results.push({ mode, ...res });
      expect(res.failed as number).toBeGreaterThan(0);
      expect(res.firstError as string).toMatch(/EFBIG/);
      expect(res.afterFail).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
      // every acknowledged record survives the reopen (4 records per batch); nothing beyond the
      // cut-off (a partial batch) made the reopen fail
      expect(res.hw).toBe((res.acked as number) * 4);
      expect(res.reopenedEnd as number).toBeGreaterThanOrEqual(res.hw as number);
      expect(res.reopenedFailed).toBe(false);
    }
  } finally {
    try {
      (await import("node:fs")).rmSync(script, { force: true });
    } catch {}
  }
  console.log(JSON.stringify(results));
}, 60_000);

test("write error in a shared write barrier (flush-interval, EFBIG): only the partition whose write failed fails", async () => {
  const dir = tempDir();
  const script = join(REPO, ".cache", `segment-io-shared-efbig-${process.pid}.ts`);
  try {
    for (const mode of MODES) {
      writeFileSync(
        script,
        `
        import { PartitionLog } from "${REPO}/src/log/partition-log.ts";
        import { segmentIoFor } from "${REPO}/src/log/native-segment-file.ts";
        import { buildBatch, sampleRecords } from "${REPO}/test/unit/log/batch-builder.ts";
        const files = segmentIoFor("${mode}").files;
        const cfg = { ...(${JSON.stringify(config({ flushIntervalMessages: 100_000 }))}) };
        // big: grows past the 64 KiB file size limit; small: stays far below it
        const big = await PartitionLog.open("${dir}-${mode}-big", "t", 0, cfg, { files });
        const small = await PartitionLog.open("${dir}-${mode}-small", "t", 1, cfg, { files });
        const T = 1_700_000_000_000;
        let rounds = 0, bigError = "", smallOkInFailedRound = false;
        while (rounds < 100 && !big.failed) {
          rounds++;
          const b = big.append(buildBatch(sampleRecords(4, T, 500)), T);
          const s = small.append(buildBatch(sampleRecords(1, T, 10)), T);
          const [rb, rs] = await Promise.allSettled([b.durable, s.durable]);
          if (rb.status === "rejected") { bigError = (rb.reason as Error).message; smallOkInFailedRound = rs.status === "fulfilled"; }
        }
        console.log(JSON.stringify({ rounds, bigError, bigFailed: big.failed, smallOkInFailedRound, smallFailed: small.failed, smallHw: small.highWatermark, smallEnd: small.logEndOffset }));
        await big.close();
        await small.close();
      `,
      );
      const res = await runUnderFileSizeLimit(script, mode);
      expect(res.bigFailed).toBe(true);
      expect(res.bigError as string).toMatch(/EFBIG/);
      // the other member of the same barrier was written and acknowledged
      expect(res.smallOkInFailedRound).toBe(true);
      expect(res.smallFailed).toBe(false);
      expect(res.smallHw).toBe(res.rounds);
      expect(res.smallEnd).toBe(res.rounds);
    }
  } finally {
    (await import("node:fs")).rmSync(script, { force: true });
  }
}, 60_000);
