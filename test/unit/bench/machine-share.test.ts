// The benchmark's rule for points the hypervisor disturbed (bench/vs-kafka/machine-share.ts): a
// point whose steal exceeded the limit is measured again, up to the retry count, and the quietest
// attempt is kept. CPU counters are fed in, so each case knows its steal.
import { describe, expect, test } from "bun:test";
import { describeAttempts, describeRepeats, machineShares, measureQuietly, medianIndex } from "../../../bench/vs-kafka/machine-share.ts";

/** Counter readings (user nice system idle iowait irq softirq steal) whose deltas give `steals` in turn. */
function ticksWithSteal(steals: number[]): () => number[] {
  const readings: number[][] = [[0, 0, 0, 0, 0, 0, 0, 0]];
  let t = readings[0]!;
  for (const s of steals) {
    // 100 ticks per attempt: `s` of them stolen, the rest busy
    t = [t[0]! + (100 - s), 0, 0, 0, 0, 0, 0, t[7]! + s];
    readings.push(t, t); // the end of one attempt is the start of the next
  }
  let i = 0;
  return () => readings[Math.min(i++, readings.length - 1)]!;
}

describe("measureQuietly", () => {
  test("a quiet point is measured once", async () => {
    let runs = 0;
    const q = await measureQuietly(async () => ++runs, { retries: 2, stealLimitPct: 10, ticks: ticksWithSteal([3]) });
    expect(runs).toBe(1);
    expect(q.result).toBe(1);
    expect(q.steals).toEqual([3]);
    expect(describeAttempts(q.steals)).toBe("");
  });

  test("a disturbed point is measured again and the quietest attempt is kept", async () => {
    let runs = 0;
    const q = await measureQuietly(async () => ++runs, { retries: 2, stealLimitPct: 10, ticks: ticksWithSteal([31, 4]) });
    expect(runs).toBe(2); // the second attempt was quiet enough: no third
    expect(q.result).toBe(2);
    expect(q.shares?.steal).toBeCloseTo(4, 5);
    expect(describeAttempts(q.steals)).toBe("; measured 2 times at 31 % / 4 % steal, kept the quietest");
  });

  test("retries are bounded; with all attempts disturbed the least disturbed wins", async () => {
    let runs = 0;
    const q = await measureQuietly(async () => ++runs, { retries: 2, stealLimitPct: 10, ticks: ticksWithSteal([40, 22, 35, 5]) });
    expect(runs).toBe(3);
    expect(q.result).toBe(2);
    expect(q.steals.map(Math.round)).toEqual([40, 22, 35]);
  });

  test("retries 0 turns the rule off", async () => {
    let runs = 0;
    const q = await measureQuietly(async () => ++runs, { retries: 0, stealLimitPct: 10, ticks: ticksWithSteal([50]) });
    expect(runs).toBe(1);
    expect(q.result).toBe(1);
  });

  test("shares from /proc/stat-style counters", () => {
    const s = machineShares([10, 0, 10, 50, 5, 0, 0, 5], [40, 0, 20, 80, 15, 5, 5, 35])!;
    // deltas: user 30, system 10, idle 30, iowait 10, irq 5, softirq 5, steal 30 (of 120)
    expect(s.busy).toBeCloseTo(50 / 1.2, 5);
    expect(s.idle).toBeCloseTo(25, 5);
    expect(s.iowait).toBeCloseTo(10 / 1.2, 5);
    expect(s.steal).toBeCloseTo(25, 5);
    expect(machineShares([], [1, 2])).toBeNull();
  });
});

describe("medianIndex and describeRepeats (run.ts --repeat)", () => {
  const p99 = (r: { p99: number }) => r.p99;

  test("an odd count keeps the middle run, wherever it came", () => {
    const runs = [{ p99: 7.75 }, { p99: 2.5 }, { p99: 1.42 }];
    expect(medianIndex(runs, p99)).toBe(1);
    expect(describeRepeats(runs.map(p99), 1)).toBe("; repeated 3 times: e2e p99 7.75 / 2.50 / 1.42 ms, kept the median (2.50)");
  });

  test("an even count keeps the lower middle run; ties keep the earlier one", () => {
    expect(medianIndex([{ p99: 4 }, { p99: 1 }, { p99: 9 }, { p99: 3 }], p99)).toBe(3);
    expect(medianIndex([{ p99: 5 }, { p99: 5 }], p99)).toBe(0);
  });

  test("a single run is kept and described as nothing", () => {
    expect(medianIndex([{ p99: 12 }], p99)).toBe(0);
    expect(describeRepeats([12], 0)).toBe("");
  });

  test("no runs is an error, not a silent pick", () => {
    expect(() => medianIndex([], p99)).toThrow(RangeError);
  });
});
