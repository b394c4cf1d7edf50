/**
 * Latency summaries and table printing for the latency benchmarks.
 *
 * Percentiles use linear interpolation between closest ranks (the same rule tinybench uses), so
 * figures computed here from raw `performance.now()` samples and figures read from a tinybench
 * Task are comparable. All values are milliseconds.
 */
import type { Task } from "tinybench";

export interface LatencySummary {
  /** Number of samples. */
  n: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Operations per second over the measured wall time (not 1000/mean, unless stated). */
  opsPerSec: number;
  /** Where the figures come from: "tinybench" or "perf.now". */
  source: string;
}

/** q in [0, 1]; `sorted` ascending and non-empty. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  if (n === 1) return sorted[0]!;
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  const frac = pos - lo;
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * frac;
}

/** Summary of raw samples (ms) collected with performance.now(). */
export function summarize(samples: number[], wallMs: number, source = "perf.now"): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const s of sorted) sum += s;
  return {
    n: sorted.length,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
    p50: quantile(sorted, 0.5),
    p95: quantile(sorted, 0.95),
    p99: quantile(sorted, 0.99),
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
    opsPerSec: wallMs > 0 ? (sorted.length * 1000) / wallMs : Number.NaN,
    source,
  };
}

/**
 * Summary of a finished tinybench task: mean/p50/p99/max come straight from tinybench's own
 * `result.latency` statistics; p95 (which tinybench does not report) is computed from its retained
 * samples, so the task must run with `retainSamples: true`. Throughput: `wallMs` when given
 * (concurrent tasks, where 1000/mean is not the rate), otherwise 1000 / mean latency.
 */
export function fromTinybench(task: Task, wallMs?: number): LatencySummary {
  const r = task.result;
  if (r.state !== "completed" && r.state !== "aborted-with-statistics") {
    const why = r.state === "errored" ? String(r.error?.stack ?? r.error) : r.state;
    throw new Error(`task ${task.name} did not complete: ${why}`);
  }
  const lat = r.latency;
  const samples = lat.samples;
  const p95 = samples && samples.length ? quantile(samples, 0.95) : Number.NaN;
  return {
    n: lat.samplesCount,
    mean: lat.mean,
    p50: lat.p50,
    p95,
    p99: lat.p99,
    max: lat.max,
    opsPerSec: wallMs !== undefined && wallMs > 0 ? (lat.samplesCount * 1000) / wallMs : lat.mean > 0 ? 1000 / lat.mean : Number.NaN,
    source: "tinybench",
  };
}

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return "n/a";
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`;
  if (ms < 100) return `${ms.toFixed(2)} ms`;
  return `${ms.toFixed(0)} ms`;
}

export function fmtOps(x: number): string {
  return Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "n/a";
}

export interface Row {
  name: string;
  s: LatencySummary;
  note?: string;
}

/** A Markdown table (also readable on a terminal). */
export function table(rows: Row[]): string {
  const head = ["case", "n", "mean", "p50", "p95", "p99", "max", "ops/s", "stats", "note"];
  const body = rows.map((r) => [
    r.name,
    String(r.s.n),
    fmtMs(r.s.mean),
    fmtMs(r.s.p50),
    fmtMs(r.s.p95),
    fmtMs(r.s.p99),
    fmtMs(r.s.max),
    fmtOps(r.s.opsPerSec),
    r.s.source,
    r.note ?? "",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => "| " + cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ") + " |";
  return [line(head), "| " + widths.map((w) => "-".repeat(w)).join(" | ") + " |", ...body.map(line)].join("\n");
}
