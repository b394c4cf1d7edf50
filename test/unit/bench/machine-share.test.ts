// The benchmark's rule for points the hypervisor disturbed (bench/vs-kafka/machine-share.ts): a
// point whose steal exceeded the limit is measured again, up to the retry count, and the quietest
// attempt is kept. CPU counters are fed in, so each case knows its steal.
import { describe, expect, test } from "bun:test";
import {
  busyStealProbe,
  describeAttempts,
  describeRepeats,
  describeWaits,
  machineShares,
  measureQuietly,
  medianIndex,
  waitForQuietMachine,
  type QuietGate,
} from "../../../bench/vs-kafka/machine-share.ts";

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

/** A gate whose probes read `steals` in turn, on a fake clock that each probe and pause moves on. */
function fakeGate(steals: number[], over: Partial<QuietGate> = {}): QuietGate & { probed: () => number } {
  let t = 0;
  let i = 0;
  return {
    stealLimitPct: 5,
    probeMs: 1000,
    pauseMs: 5000,
    maxWaitMs: 30_000,
    probe: async (ms) => {
      t += ms;
      return steals[Math.min(i++, steals.length - 1)]!;
    },
    sleep: async (ms) => {
      t += ms;
    },
    now: () => t,
    probed: () => i,
    ...over,
  };
}

describe("the quiet gate (run.ts --quiet-gate)", () => {
  test("a quiet machine opens the gate after one probe", async () => {
    const g = fakeGate([2]);
    const w = await waitForQuietMachine(g);
    expect(w).toEqual({ waitedMs: 1000, probes: [2], quiet: true });
    expect(describeWaits([w])).toBe("");
  });

  test("steal above the limit holds the attempt back until a probe reads it quiet", async () => {
    const g = fakeGate([31, 22, 4, 40]);
    const w = await waitForQuietMachine(g);
    expect(g.probed()).toBe(3); // the fourth reading is never taken
    expect(w.probes).toEqual([31, 22, 4]);
    expect(w.quiet).toBe(true);
    expect(w.waitedMs).toBe(3 * 1000 + 2 * 5000);
    expect(describeWaits([w])).toBe("; waited 13 s for a quiet machine (probes at 31 / 22 / 4 % steal)");
  });

  test("the wait is bounded: the gate gives up and says so", async () => {
    const g = fakeGate([30], { maxWaitMs: 20_000 });
    const w = await waitForQuietMachine(g);
    expect(w.quiet).toBe(false);
    expect(w.waitedMs).toBeLessThanOrEqual(20_000);
    expect(w.probes.length).toBe(4); // 1 s probe + 5 s pause, three times, then a last probe at 18 s
    expect(describeWaits([w])).toContain("(gave up)");
  });

  test("a gate that gives up after its only probe still says so", async () => {
    const w = await waitForQuietMachine(fakeGate([30], { maxWaitMs: 3000 }));
    expect(w).toEqual({ waitedMs: 1000, probes: [30], quiet: false });
    expect(describeWaits([w])).toBe("; waited 1 s for a quiet machine (gave up) (probes at 30 % steal)");
  });

  test("measureQuietly passes the gate before every attempt", async () => {
    const g = fakeGate([9, 3, 3]);
    let runs = 0;
    const q = await measureQuietly(async () => ++runs, { retries: 2, stealLimitPct: 10, ticks: ticksWithSteal([31, 4]), gate: g });
    expect(runs).toBe(2);
    expect(q.waits.map((w) => w.probes)).toEqual([[9, 3], [3]]);
    expect(q.result).toBe(2);
  });

  test("the real probe keeps the CPUs busy and reads a steal share", async () => {
    const t0 = performance.now();
    const steal = await busyStealProbe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(195);
    expect(steal).toBeGreaterThanOrEqual(0);
    expect(steal).toBeLessThanOrEqual(100);
  });
});
