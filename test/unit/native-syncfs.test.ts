// Cross-file group commit of the native I/O engine (native/src/segment_io.rs `syncfs_round`):
// when several files wait for a sync in one worker cycle, their writes go out and one syncfs(2)
// covers them all; below the threshold (or with it at 0) every file gets its own fdatasync. A
// failing syncfs (simulated) fails every sync of the round and marks every file of that
// filesystem failed, so nothing unsynced is ever acknowledged afterwards.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ioUringProbe } from "../../src/native/index.ts";
import { ioEngine, type NativeSegmentFile } from "../../src/log/native-segment-file.ts";
import { REPO_DIR as REPO, runChildScript } from "../support/child-bun.ts";

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "bunka-syncfs-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 11 + seed * 17) & 0xff;
  return b;
}

const MODES = (ioUringProbe() === "" ? ["io_uring", "pwrite"] : ["pwrite"]) as ("io_uring" | "pwrite")[];

for (const mode of MODES) {
  describe(`syncfs group commit (${mode})`, () => {
    const engine = () => ioEngine(mode);

    test("many files syncing in one turn: one syncfs covers them, every byte is on disk", async () => {
      const e = engine();
      e.raw.setSyncfsMinFiles(2);
      const dir = tempDir();
      const files = Array.from({ length: 40 }, (_, i) => e.open(join(dir, `p${i}.log`)) as NativeSegmentFile);
      const written: Uint8Array[][] = files.map(() => []);
      const before = e.stats();
      for (let round = 0; round < 5; round++) {
        // All writes and syncs of a round are made in one synchronous run: one submit, one cycle.
        const syncs = files.map((f, i) => {
          const b = bytes(500 + ((i * 97 + round * 31) % 3000), i * 10 + round);
          written[i]!.push(b);
          f.write(b);
          return f.datasync();
        });
        await Promise.all(syncs);
      }
      const after = e.stats();
      const calls = after.syncfsCalls - before.syncfsCalls;
      const covered = after.syncfsCovered - before.syncfsCovered;
      const fdatasyncs = after.fdatasyncs - before.fdatasyncs;
      console.log(`${mode}: 40 files × 5 rounds → ${calls} syncfs covering ${covered} file syncs, ${fdatasyncs} fdatasyncs`);
      expect(calls).toBeGreaterThanOrEqual(1);
      expect(covered).toBeGreaterThan(calls); // each syncfs stood in for several fdatasyncs
      expect(covered + fdatasyncs).toBe(200); // every file's sync ran in every round, one way or the other
      for (let i = 0; i < files.length; i++) {
        const f = files[i]!;
        f.close();
        const onDisk = readFileSync(f.path);
        const expected = Buffer.concat(written[i]!);
        expect(onDisk.equals(expected)).toBe(true);
      }
    });

    test("a write error inside a syncfs round fails that file only (/dev/full → ENOSPC); the others are durable", async () => {
      const e = engine();
      e.raw.setSyncfsMinFiles(2);
      const dir = tempDir();
      const good = [0, 1, 2].map((i) => e.open(join(dir, `g${i}.log`)) as NativeSegmentFile);
      const full = e.open("/dev/full") as NativeSegmentFile;
      const before = e.stats();
      const results = await Promise.all(
        [...good, full].map((f, i) => {
          f.write(bytes(700, i));
          return f.datasync().then(
            () => "ok",
            (err: NodeJS.ErrnoException) => err.code ?? String(err),
          );
        }),
      );
      expect(e.stats().syncfsCalls - before.syncfsCalls).toBeGreaterThanOrEqual(1);
      expect(results).toEqual(["ok", "ok", "ok", "ENOSPC"]);
      expect(() => full.write(bytes(10, 9))).toThrow(/ENOSPC/);
      full.close();
      for (const [i, f] of good.entries()) {
        f.close();
        expect(readFileSync(f.path).equals(bytes(700, i))).toBe(true);
      }
    });

    test("threshold 0: every file gets its own fdatasync, no syncfs", async () => {
      const e = engine();
      e.raw.setSyncfsMinFiles(0);
      try {
        const dir = tempDir();
        const files = Array.from({ length: 10 }, (_, i) => e.open(join(dir, `q${i}.log`)) as NativeSegmentFile);
        const before = e.stats();
        await Promise.all(
          files.map((f, i) => {
            f.write(bytes(1000, i));
            return f.datasync();
          }),
        );
        const after = e.stats();
        expect(after.syncfsCalls - before.syncfsCalls).toBe(0);
        expect(after.fdatasyncs - before.fdatasyncs).toBe(10);
        for (const f of files) {
          f.close();
          expect(readFileSync(f.path).length).toBe(1000);
        }
      } finally {
        e.raw.setSyncfsMinFiles(2);
      }
    });
  });
}

for (const mode of MODES) {
  test(`a failing syncfs (${mode}, simulated EIO) fails the round's syncs and every file of that filesystem`, async () => {
    const dir = tempDir();
    const res = await runChildScript(
      `
      import { ioEngine } from "${REPO}/src/log/native-segment-file.ts";
      const e = ioEngine("${mode}");
      e.raw.setSyncfsMinFiles(2);
      const files = Array.from({ length: 8 }, (_, i) => e.open("${dir}/f" + i + ".log"));
      const bystander = e.open("${dir}/bystander.log"); // not in the round
      const codes = await Promise.all(files.map((f, i) => {
        f.write(new Uint8Array(100).fill(i));
        return f.datasync().then(() => "ok", (err) => err.code ?? String(err));
      }));
      let bystanderWrite = "ok";
      try { bystander.write(new Uint8Array(10)); } catch (err) { bystanderWrite = err.code ?? String(err); }
      const bystanderSync = await bystander.datasync().then(() => "ok", (err) => err.code ?? String(err));
      console.log(JSON.stringify({ codes, bystanderWrite, bystanderSync, stats: e.stats() }));
    `,
      { BUNKA_SYNCFS_FORCE_ERRNO: "5" },
    );
    expect(res.stats.syncfsCalls).toBeGreaterThanOrEqual(1);
    expect(res.codes).toEqual(Array(8).fill("EIO"));
    // The bystander never took part in a round, but its filesystem reported a lost writeback:
    // it is failed too, so no later sync of it can pass over lost pages.
    expect(res.bystanderWrite).toBe("EIO");
    expect(res.bystanderSync).toBe("EIO");
  }, 30_000);
}
