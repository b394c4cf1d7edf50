import { describe, expect, test } from "bun:test";
import { MAX_TIMER_DELAY_MS, setLongTimeout, timerDelay } from "../../../src/util/long-timeout.ts";
import { PartitionLog } from "../../../src/log/partition-log.ts";
import { buildBatch, sampleRecords } from "../log/batch-builder.ts";
import { config, tempDir } from "../log/helpers.ts";

const T0 = 1_700_000_000_000;

describe("timers with config-sized delays", () => {
  test("timerDelay keeps what a timer honours and cuts the rest", () => {
    expect(timerDelay(250)).toBe(250);
    expect(timerDelay(-5)).toBe(0);
    expect(timerDelay(Number.NaN)).toBe(0);
    expect(timerDelay(2 ** 31)).toBe(MAX_TIMER_DELAY_MS);
    expect(timerDelay(9_223_372_036_854_775_807)).toBe(MAX_TIMER_DELAY_MS);
  });

  test("a delay beyond 2^31-1 ms does not fire at once (a plain setTimeout would after 1 ms)", async () => {
    let fired = 0;
    const t = setLongTimeout(() => fired++, 2 ** 31 + 1000);
    await Bun.sleep(60);
    expect(fired).toBe(0);
    t.cancel();
  });

  test("a short delay fires once, not before it is due; cancel stops it", async () => {
    const start = Date.now();
    let firedAt = 0;
    setLongTimeout(() => (firedAt = Date.now()), 30);
    let cancelled = 0;
    const c = setLongTimeout(() => cancelled++, 20);
    c.cancel();
    await Bun.sleep(80);
    expect(firedAt).toBeGreaterThanOrEqual(start + 29);
    expect(cancelled).toBe(0);
  });

  test("flush.ms of 30 days does not flush after every append", async () => {
    const log = await PartitionLog.open(tempDir(), "t", 0, config({ flushIntervalMs: 30 * 24 * 3600 * 1000 }));
    for (let i = 0; i < 5; i++) {
      log.append(buildBatch(sampleRecords(1)), T0);
      await Bun.sleep(5);
    }
    await Bun.sleep(30);
    expect(log.syncCount).toBe(0);
    expect(log.highWatermark).toBe(5);
    await log.close();
  });

  test("a short flush.ms still flushes on time", async () => {
    const log = await PartitionLog.open(tempDir(), "t", 0, config({ flushIntervalMs: 20 }));
    log.append(buildBatch(sampleRecords(1)), T0);
    expect(log.syncCount).toBe(0);
    await Bun.sleep(80);
    expect(log.syncCount).toBe(1);
    await log.close();
  });
});
