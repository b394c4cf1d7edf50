import { describe, expect, test } from "bun:test";
import { SampleLog } from "../../../bench/lib/sample-log.ts";
import { percentiles } from "../../../bench/vs-kafka/js-load.ts";

describe("SampleLog (the open loop's latency samples)", () => {
  test("keeps every sample in order, within and past the expected count", () => {
    const log = new SampleLog(1024);
    const n = 5000; // past the first allocation: the fallback growth must keep what was there
    for (let i = 0; i < n; i++) log.push(i * 0.5);
    expect(log.length).toBe(n);
    const v = log.values();
    expect(v.length).toBe(n);
    for (let i = 0; i < n; i += 499) expect(v[i]).toBe(i * 0.5);
    expect(v[n - 1]).toBe((n - 1) * 0.5);
  });

  test("an empty log gives no values, and percentiles of it are NaN, not zeros", () => {
    const log = new SampleLog(0);
    expect(log.values().length).toBe(0);
    const p = percentiles(log.values());
    expect(p.n).toBe(0);
    expect(Number.isNaN(p.p99)).toBe(true);
  });

  test("percentiles read the log like the array they replaced", () => {
    const log = new SampleLog(100);
    const arr: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const ms = ((i * 7919) % 1000) / 10; // a permutation of 0..99.9
      log.push(ms);
      arr.push(ms);
    }
    expect(percentiles(log.values())).toEqual(percentiles(arr));
    expect(percentiles(log.values()).p99).toBeCloseTo(98.901, 3);
  });
});
