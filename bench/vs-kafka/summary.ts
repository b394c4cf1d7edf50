/**
 * Prints the compact comparison tables used in README.md and bench/RESULTS.md from a results file:
 * p99 end-to-end (open-loop wire client) per grid point, maximum throughput, startup / recovery /
 * RSS.
 *
 *   bun bench/vs-kafka/summary.ts [bench/results/latest.json]
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isLatency, type ExtraRow, type LatencyRow, type Row } from "./report.ts";

const file = process.argv[2] ?? join(import.meta.dir, "..", "results", "latest.json");
const rows = JSON.parse(readFileSync(file, "utf8")) as Row[];
const lat = rows.filter(isLatency);

const n = (x: number | null | undefined, d = 1) => (x === null || x === undefined || !Number.isFinite(x) ? "–" : x < 1 ? x.toFixed(2) : x.toFixed(d));
const stepOrder = (s: string) => (s === "seq" ? -1 : s === "max" ? 1e9 : s === "80%max" ? 1e8 : Number(s));

function pairs(filter: (r: LatencyRow) => boolean) {
  const m = new Map<string, { k?: LatencyRow; b?: LatencyRow }>();
  for (const r of lat.filter(filter)) {
    const key = `${r.durability}|${r.partitions}|${r.step}`;
    if (!m.has(key)) m.set(key, {});
    m.get(key)![r.broker === "kafka" ? "k" : "b"] = r;
  }
  return [...m.entries()]
    .map(([key, v]) => {
      const [d, p, s] = key.split("|") as [string, string, string];
      return { d, p: Number(p), s, ...v };
    })
    .sort((a, b) => (a.d === b.d ? (a.p === b.p ? stepOrder(a.s) - stepOrder(b.s) : a.p - b.p) : a.d === "none" ? -1 : 1));
}

const out: string[] = [];
out.push("| durability | partitions | load | Kafka p50 / p99 e2e (ms) | Bunka p50 / p99 e2e (ms) | Bunka/Kafka p99 | goal ≤ 0.5 |");
out.push("| --- | ---: | --- | ---: | ---: | ---: | --- |");
for (const e of pairs((r) => r.metric === "e2e" && r.tool === "wire-client/open-loop")) {
  const ratio = e.k && e.b && e.k.p99Ms > 0 ? e.b.p99Ms / e.k.p99Ms : Number.NaN;
  const load = e.s === "80%max" ? `80% of own max (K ${n(e.k?.achievedMBps)} / B ${n(e.b?.achievedMBps)} MiB/s)` : `${e.s} MiB/s`;
  out.push(
    `| ${e.d} | ${e.p} | ${load} | ${n(e.k?.p50Ms)} / ${n(e.k?.p99Ms)} | ${n(e.b?.p50Ms)} / ${n(e.b?.p99Ms)} | ${Number.isFinite(ratio) ? ratio.toFixed(2) : "–"} | ${Number.isFinite(ratio) ? (ratio <= 0.5 ? "yes" : "**no**") : "–"} |`,
  );
}
out.push("");
out.push("| durability | partitions | max MiB/s, wire client unthrottled: Kafka / Bunka | max MiB/s, ProducerPerformance: Kafka / Bunka |");
out.push("| --- | ---: | ---: | ---: |");
const un = pairs((r) => r.step === "max" && r.tool === "wire-client/unthrottled");
const pp = pairs((r) => r.step === "max" && r.tool === "kafka-producer-perf");
for (const e of pp) {
  const u = un.find((x) => x.d === e.d && x.p === e.p);
  out.push(`| ${e.d} | ${e.p} | ${n(u?.k?.achievedMBps)} / ${n(u?.b?.achievedMBps)} | ${n(e.k?.achievedMBps)} / ${n(e.b?.achievedMBps)} |`);
}
out.push("");
out.push("| metric | what | durability | Kafka | Bunka |");
out.push("| --- | --- | --- | ---: | ---: |");
const ex = rows.filter((r): r is ExtraRow => !isLatency(r));
const seen = new Set<string>();
for (const r of ex) {
  const key = `${r.metric}|${r.label}|${r.durability}`;
  if (seen.has(key)) continue;
  seen.add(key);
  const k = ex.find((x) => x.broker === "kafka" && `${x.metric}|${x.label}|${x.durability}` === key);
  const b = ex.find((x) => x.broker === "bunka" && `${x.metric}|${x.label}|${x.durability}` === key);
  out.push(`| ${r.metric} | ${r.label} | ${r.durability} | ${k ? `${n(k.value, 0)} ${k.unit}` : "–"} | ${b ? `${n(b.value, 0)} ${b.unit}` : "–"} |`);
}
console.log(out.join("\n"));
