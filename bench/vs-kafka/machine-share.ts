/**
 * Where the machine's CPU time went while a grid point was measured, and re-measuring points the
 * hypervisor disturbed. On this VM the hypervisor can take a large share of the CPU ("steal",
 * 20-45 % for minutes at a time), which slows whichever broker is measured then: a pass of one
 * broker under steal against a quiet pass of the other compares the VM, not the brokers. With a
 * steal limit, an open-loop point whose steal exceeded it is measured again (up to `retries`
 * times) and the quietest attempt is kept; every row notes the attempts. Both brokers get the same
 * rule.
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

export interface MachineShares {
  busy: number;
  idle: number;
  iowait: number;
  steal: number;
}

/** The machine's CPU time counters (first line of /proc/stat: user nice system idle iowait irq softirq steal). */
export function cpuTicks(): number[] {
  try {
    return readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  } catch {
    return [];
  }
}

/** Percent shares between two cpuTicks() readings; null when /proc/stat was unreadable. */
export function machineShares(a: number[], b: number[]): MachineShares | null {
  if (a.length < 8 || b.length < 8) return null;
  const d = b.map((v, i) => v - (a[i] ?? 0));
  const total = d.reduce((x, y) => x + y, 0) || 1;
  const pct = (n: number) => (100 * n) / total;
  return { busy: pct(d[0]! + d[1]! + d[2]! + d[5]! + d[6]!), idle: pct(d[3]!), iowait: pct(d[4]!), steal: pct(d[7]!) };
}

export function describeShares(s: MachineShares | null): string {
  if (s === null) return "cpu shares unknown";
  return `machine cpu: busy ${s.busy.toFixed(0)}%, idle ${s.idle.toFixed(0)}%, iowait ${s.iowait.toFixed(0)}%, steal ${s.steal.toFixed(0)}%`;
}

export interface QuietAttempt<T> {
  result: T;
  shares: MachineShares | null;
  /** Steal (percent) of every attempt, in order; the kept one is the lowest. */
  steals: number[];
  /** The quiet gate's wait before each attempt (empty without a gate). */
  waits: GateWait[];
}

/**
 * A gate before each attempt: steal shows only while the VM asks for CPU, so an idle machine
 * reads ~0 % even in the middle of a steal episode, and an attempt started then runs into it. The
 * gate keeps every CPU busy for `probeMs` and reads the steal; above `stealLimitPct` it pauses
 * `pauseMs` and probes again, for at most `maxWaitMs`, then lets the attempt run anyway (the
 * attempt's own steal is still ruled on). Both brokers pass the same gate.
 */
export interface QuietGate {
  stealLimitPct: number;
  probeMs: number;
  pauseMs: number;
  maxWaitMs: number;
  /** Test seams: the busy probe (returns steal percent), the pause and the clock. */
  probe?: (ms: number) => Promise<number>;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface GateWait {
  /** Time from the first probe until the gate opened (or gave up). */
  waitedMs: number;
  /** Steal percent of every probe, in order. */
  probes: number[];
  /** False when the gate gave up after maxWaitMs. */
  quiet: boolean;
}

/** Keeps every CPU busy for `ms` (one spinning shell per CPU) and returns the steal share meanwhile. */
export async function busyStealProbe(ms: number): Promise<number> {
  const t0 = cpuTicks();
  const spinners = Array.from({ length: availableParallelism() }, () =>
    Bun.spawn(["sh", "-c", "while :; do :; done"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" }),
  );
  try {
    await Bun.sleep(ms);
  } finally {
    for (const s of spinners) s.kill("SIGKILL");
    await Promise.all(spinners.map((s) => s.exited));
  }
  return machineShares(t0, cpuTicks())?.steal ?? 0;
}

/** Probes until the steal is within the gate's limit or its time is up. */
export async function waitForQuietMachine(gate: QuietGate): Promise<GateWait> {
  const probe = gate.probe ?? busyStealProbe;
  const sleep = gate.sleep ?? ((ms: number) => Bun.sleep(ms));
  const now = gate.now ?? (() => performance.now());
  const t0 = now();
  const probes: number[] = [];
  for (;;) {
    const steal = await probe(gate.probeMs);
    probes.push(steal);
    if (steal <= gate.stealLimitPct) return { waitedMs: now() - t0, probes, quiet: true };
    if (now() - t0 + gate.pauseMs > gate.maxWaitMs) return { waitedMs: now() - t0, probes, quiet: false };
    await sleep(gate.pauseMs);
  }
}

/**
 * Runs `measure`; while its steal exceeded `stealLimitPct` and retries are left, runs it again.
 * Returns the attempt with the least steal. `ticks` reads the CPU counters (tests pass their own).
 */
export async function measureQuietly<T>(
  measure: () => Promise<T>,
  opts: { retries: number; stealLimitPct: number; ticks?: () => number[]; gate?: QuietGate | null },
): Promise<QuietAttempt<T>> {
  const ticks = opts.ticks ?? cpuTicks;
  const attempts: { result: T; shares: MachineShares | null }[] = [];
  const waits: GateWait[] = [];
  for (;;) {
    if (opts.gate) waits.push(await waitForQuietMachine(opts.gate));
    const t0 = ticks();
    const result = await measure();
    const shares = machineShares(t0, ticks());
    attempts.push({ result, shares });
    const steal = shares?.steal ?? 0;
    if (steal <= opts.stealLimitPct || attempts.length > opts.retries) break;
  }
  let best = attempts[0]!;
  for (const a of attempts) if ((a.shares?.steal ?? 0) < (best.shares?.steal ?? 0)) best = a;
  return { result: best.result, shares: best.shares, steals: attempts.map((a) => a.shares?.steal ?? 0), waits };
}

/** "; waited 35 s for a quiet machine (probes at 31 / 22 / 4 % steal)" for each attempt the gate held back or gave up on. */
export function describeWaits(waits: GateWait[]): string {
  return waits
    .filter((w) => w.probes.length > 1 || !w.quiet)
    .map((w) => `; waited ${(w.waitedMs / 1000).toFixed(0)} s for a quiet machine${w.quiet ? "" : " (gave up)"} (probes at ${w.probes.map((p) => p.toFixed(0)).join(" / ")} % steal)`)
    .join("");
}

/** "; attempts at 31 % / 4 % steal, kept the quietest" when a point was measured more than once. */
export function describeAttempts(steals: number[]): string {
  if (steals.length < 2) return "";
  return `; measured ${steals.length} times at ${steals.map((s) => `${s.toFixed(0)} %`).join(" / ")} steal, kept the quietest`;
}

/**
 * Index of the run whose `key` is the median of `runs` (the lower of the two middle ones for an
 * even count). With a point measured several times (run.ts --repeat), the median run is the one
 * reported: a single disturbed run (a burst of steal, a stall of the shared client) then decides
 * nothing, for either broker, and the figures kept are still one real run's.
 */
export function medianIndex<T>(runs: readonly T[], key: (run: T) => number): number {
  if (runs.length === 0) throw new RangeError("medianIndex of no runs");
  const order = runs.map((r, i) => ({ i, k: key(r) })).sort((a, b) => a.k - b.k || a.i - b.i);
  return order[Math.floor((order.length - 1) / 2)]!.i;
}

/** "; repeated 3 times: e2e p99 2.50 / 7.75 / 1.42 ms, kept the median (2.50)" when measured more than once. */
export function describeRepeats(p99s: number[], kept: number): string {
  if (p99s.length < 2) return "";
  return `; repeated ${p99s.length} times: e2e p99 ${p99s.map((v) => v.toFixed(2)).join(" / ")} ms, kept the median (${p99s[kept]!.toFixed(2)})`;
}
