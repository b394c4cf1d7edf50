/**
 * Result rows, the Markdown report and the SVG plot of the Kafka-vs-Bunka benchmark.
 *
 * results JSON = an array of rows. Latency rows (metric "produce" | "e2e") carry the grid point and
 * percentiles; the other rows (metric "startup" | "recovery" | "rss") carry one `value` in `unit`.
 * Percentiles a tool does not report (EndToEndLatency has no 95th) are null.
 */

export type Metric = "produce" | "e2e";

export interface LatencyRow {
  runId: string;
  mode: string;
  broker: "kafka" | "bunka";
  durability: "none" | "fsync";
  partitions: number;
  /** "1" | "10" | "50" (MiB/s), "max" (unthrottled), "80%max" (open loop at 80 % of the
   *  unthrottled maximum; each broker its own), "seq" (one record at a time). */
  step: string;
  /** MiB/s asked for; 0 for unthrottled/sequential steps. */
  targetMBps: number;
  achievedMBps: number;
  metric: Metric;
  tool: string;
  p50Ms: number;
  p95Ms: number | null;
  p99Ms: number;
  p999Ms: number;
  n: number;
  /** 1-minute load average when the point finished (the machine is shared). */
  load1: number;
  note?: string;
}

export interface ExtraRow {
  runId: string;
  mode: string;
  broker: "kafka" | "bunka";
  durability: "none" | "fsync";
  metric: "startup" | "recovery" | "rss";
  /** e.g. "empty data dir", "kill -9 with 200 MiB", "idle", "peak under load". */
  label: string;
  value: number;
  unit: "ms" | "MiB";
  note?: string;
}

export type Row = LatencyRow | ExtraRow;

export function isLatency(r: Row): r is LatencyRow {
  return r.metric === "produce" || r.metric === "e2e";
}

// ----------------------------------------------------------------------------- Markdown

function f(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "–";
  if (x === 0) return "0";
  if (x < 1) return x.toFixed(3);
  if (x < 10) return x.toFixed(2);
  if (x < 100) return x.toFixed(1);
  return x.toFixed(0);
}

function ratio(b: number | null | undefined, k: number | null | undefined): string {
  if (b === null || b === undefined || k === null || k === undefined || !Number.isFinite(b) || !Number.isFinite(k) || k <= 0) return "–";
  return `${(b / k).toFixed(2)}×`;
}

function mdTable(head: string[], rows: string[][]): string {
  return [`| ${head.join(" | ")} |`, `| ${head.map(() => "---").join(" | ")} |`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

const STEP_ORDER = (s: string) => (s === "seq" ? -1 : s === "max" ? 1e9 : s === "80%max" ? 1e8 : Number(s));

export const TOOL_TEXT: Record<string, string> = {
  "wire-client/open-loop":
    "JS wire client, open loop at the target rate, round-robin over all partitions, acks=all, one consumer on all partitions; percentiles over every record (µs resolution).",
  "wire-client/tinybench": "JS wire client under tinybench, one record at a time on partition 0 (produce round trip; e2e = produce then fetch it).",
  "wire-client/unthrottled": "JS wire client writing as fast as the broker acknowledges: 256-record batches, 8 requests in flight, round-robin; latency per request (256 KiB).",
  "kafka-producer-perf":
    "Kafka's ProducerPerformance (Java client, acks=all, linger.ms=0, sticky partitioner); send() → callback; the tool prints whole milliseconds (truncated).",
  "kafka-e2e-latency": "Kafka's EndToEndLatency (Java client, one record at a time, acks=all); whole milliseconds (truncated); no 95th.",
};

export function markdown(rows: Row[], env: Record<string, unknown>): string {
  const lat = rows.filter(isLatency);
  const out: string[] = [];
  out.push(`Run \`${String(env.runId)}\` (${String(env.mode)} mode), ${String(env.date)}. Command: \`${String(env.command)}\`.`);
  out.push("");
  out.push(
    `Machine: ${String(env.cores)} cores (${String(env.cpuModel)}), Linux ${String(env.kernel)}, Bun ${String(env.bun)}, ${String(env.java)}; data dirs on ${String(env.fsType)} (${String(env.device)}); load average ${String(env.loadStart)} at start, ${String(env.loadEnd)} at end. Kafka 4.3.1 KRaft single node, heap ${String(env.kafkaHeap)}.`,
  );
  out.push("");
  out.push(
    'Durability: **none** = Kafka defaults (no flush by count/time) vs Bunka `log.flush.interval.ms=60000`; **fsync** = Kafka `log.flush.interval.messages=1` (flush after every append, before the ack) vs Bunka default (group-committed fdatasync before the ack). Ratio = Bunka / Kafka (below 1: Bunka faster); "goal" = Bunka p99 ≤ ½ Kafka p99.',
  );
  const groups = new Map<string, LatencyRow[]>();
  for (const r of lat) {
    const k = `${r.metric}|${r.tool}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(r);
  }
  const order = ["e2e|wire-client/open-loop", "produce|wire-client/open-loop", "produce|wire-client/unthrottled", "produce|kafka-producer-perf", "e2e|kafka-e2e-latency", "e2e|wire-client/tinybench", "produce|wire-client/tinybench"];
  const keys = [...groups.keys()].sort((a, b) => (order.indexOf(a) + 99) % 99 - ((order.indexOf(b) + 99) % 99));
  for (const k of keys) {
    const [metric, tool] = k.split("|") as [string, string];
    const g = groups.get(k)!;
    out.push("");
    out.push(`### ${metric === "e2e" ? "End-to-end" : "Produce"} latency, \`${tool}\` (ms)`);
    out.push("");
    out.push(TOOL_TEXT[tool] ?? "");
    out.push("");
    const points = new Map<string, { k?: LatencyRow; b?: LatencyRow; d: string; p: number; s: string }>();
    for (const r of g) {
      const pk = `${r.durability}|${r.partitions}|${r.step}`;
      if (!points.has(pk)) points.set(pk, { d: r.durability, p: r.partitions, s: r.step });
      const e = points.get(pk)!;
      if (r.broker === "kafka") e.k = r;
      else e.b = r;
    }
    const sorted = [...points.values()].sort((a, b) => (a.d === b.d ? (a.p === b.p ? STEP_ORDER(a.s) - STEP_ORDER(b.s) : a.p - b.p) : a.d === "none" ? -1 : 1));
    const body = sorted.map((e) => {
      const goal =
        metric === "e2e" && e.k && e.b && e.k.p99Ms > 0 ? (e.b.p99Ms <= e.k.p99Ms / 2 ? "yes" : "**no**") : "–";
      const step = e.s === "seq" ? "sequential" : e.s === "max" || e.s === "80%max" ? e.s : `${e.s} MB/s`;
      return [
        e.d,
        String(e.p),
        step,
        f(e.k?.achievedMBps),
        f(e.b?.achievedMBps),
        `${f(e.k?.p50Ms)} / ${f(e.k?.p95Ms)} / ${f(e.k?.p99Ms)} / ${f(e.k?.p999Ms)}`,
        `${f(e.b?.p50Ms)} / ${f(e.b?.p95Ms)} / ${f(e.b?.p99Ms)} / ${f(e.b?.p999Ms)}`,
        ratio(e.b?.p50Ms, e.k?.p50Ms),
        ratio(e.b?.p99Ms, e.k?.p99Ms),
        goal,
      ];
    });
    out.push(
      mdTable(
        ["durability", "partitions", "target", "Kafka MB/s", "Bunka MB/s", "Kafka p50 / p95 / p99 / p99.9", "Bunka p50 / p95 / p99 / p99.9", "p50 ratio", "p99 ratio", "goal"],
        body,
      ),
    );
  }
  const extras = rows.filter((r): r is ExtraRow => !isLatency(r));
  if (extras.length) {
    out.push("");
    out.push("### Startup, recovery, memory");
    out.push("");
    const m = new Map<string, { k?: ExtraRow; b?: ExtraRow }>();
    for (const r of extras) {
      const key = `${r.metric}|${r.label}|${r.durability}`;
      if (!m.has(key)) m.set(key, {});
      if (r.broker === "kafka") m.get(key)!.k = r;
      else m.get(key)!.b = r;
    }
    const body = [...m.entries()].map(([key, e]) => {
      const [metric, label, d] = key.split("|");
      const unit = (e.k ?? e.b)!.unit;
      return [metric!, label!, d!, `${f(e.k?.value)} ${unit}`, `${f(e.b?.value)} ${unit}`, ratio(e.b?.value, e.k?.value)];
    });
    out.push(mdTable(["metric", "what", "durability", "Kafka", "Bunka", "ratio"], body));
    out.push("");
    out.push(
      "startup: process spawn → first Metadata answer with a broker (Kafka: `kafka.sh start` of a formatted, empty data dir; the JVM). recovery: restart after `kill -9` → Metadata answered and ListOffsets returning every acknowledged record. rss: VmRSS of the broker process (Kafka: the JVM) from /proc.",
    );
  }
  return out.join("\n") + "\n";
}

// ----------------------------------------------------------------------------- SVG

const KAFKA_COLOR = "#d9480f";
const BUNKA_COLOR = "#1c7ed6";

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * p95 and p99 end-to-end latency (log scale) against achieved throughput, one panel per
 * (durability, partitions), Kafka vs Bunka — in the manner of Confluent's Kora latency graph.
 * Source: the open-loop wire-client rows.
 */
export function svg(rows: Row[], title: string): string {
  const lat = rows.filter(isLatency).filter((r) => r.metric === "e2e" && r.tool === "wire-client/open-loop" && r.step !== "seq");
  const durs = (["none", "fsync"] as const).filter((d) => lat.some((r) => r.durability === d));
  const parts = [...new Set(lat.map((r) => r.partitions))].sort((a, b) => a - b);
  const pw = 360;
  const ph = 250;
  const ml = 64;
  const mt = 70;
  const gapX = 40;
  const gapY = 70;
  const W = ml + parts.length * (pw + gapX) + 20;
  const H = mt + durs.length * (ph + gapY) + 20;
  const o: string[] = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  o.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  o.push(`<text x="${ml}" y="24" font-size="16" font-weight="bold">${esc(title)}</text>`);
  // legend
  const lg = (x: number, color: string, dash: string, label: string) =>
    `<line x1="${x}" y1="44" x2="${x + 28}" y2="44" stroke="${color}" stroke-width="2.5"${dash ? ` stroke-dasharray="${dash}"` : ""}/><text x="${x + 34}" y="48">${esc(label)}</text>`;
  o.push(lg(ml, KAFKA_COLOR, "", "Kafka p99"), lg(ml + 120, KAFKA_COLOR, "6 4", "Kafka p95"), lg(ml + 240, BUNKA_COLOR, "", "Bunka p99"), lg(ml + 360, BUNKA_COLOR, "6 4", "Bunka p95"));
  if (lat.length === 0) {
    o.push(`<text x="${ml}" y="${mt + 20}">no open-loop e2e rows</text></svg>`);
    return o.join("\n");
  }
  durs.forEach((d, di) => {
    parts.forEach((p, pi) => {
      const x0 = ml + pi * (pw + gapX);
      const y0 = mt + di * (ph + gapY) + 20;
      const pts = lat.filter((r) => r.durability === d && r.partitions === p);
      const vals = pts.flatMap((r) => [r.p95Ms, r.p99Ms]).filter((v): v is number => v !== null && v > 0);
      const xmax = Math.max(1, ...pts.map((r) => r.achievedMBps)) * 1.1;
      let lo = Math.floor(Math.log10(Math.max(1e-3, Math.min(...vals, 1))));
      let hi = Math.ceil(Math.log10(Math.max(...vals, 1)));
      if (hi <= lo) hi = lo + 1;
      const sx = (v: number) => x0 + (v / xmax) * pw;
      const sy = (v: number) => y0 + ph - ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * ph;
      o.push(`<text x="${x0}" y="${y0 - 8}" font-weight="bold">${p} partition${p === 1 ? "" : "s"}, durability ${d}</text>`);
      o.push(`<rect x="${x0}" y="${y0}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
      for (let e = lo; e <= hi; e++) {
        const y = sy(10 ** e);
        o.push(`<line x1="${x0}" y1="${y}" x2="${x0 + pw}" y2="${y}" stroke="#e5e5e5"/>`);
        o.push(`<text x="${x0 - 6}" y="${y + 4}" text-anchor="end">${10 ** e >= 1 ? 10 ** e : (10 ** e).toFixed(-e)} ms</text>`);
      }
      const step = xmax > 40 ? 10 : xmax > 8 ? 2 : xmax > 3 ? 1 : 0.5;
      for (let v = 0; v <= xmax; v += step) {
        o.push(`<line x1="${sx(v)}" y1="${y0 + ph}" x2="${sx(v)}" y2="${y0 + ph + 4}" stroke="#999"/>`);
        o.push(`<text x="${sx(v)}" y="${y0 + ph + 16}" text-anchor="middle">${v}</text>`);
      }
      o.push(`<text x="${x0 + pw / 2}" y="${y0 + ph + 32}" text-anchor="middle">achieved throughput (MiB/s, 1 KiB records, acks=all)</text>`);
      for (const [broker, color] of [["kafka", KAFKA_COLOR], ["bunka", BUNKA_COLOR]] as const) {
        const bs = pts.filter((r) => r.broker === broker).sort((a, b) => a.achievedMBps - b.achievedMBps);
        for (const [key, dash] of [["p99Ms", ""], ["p95Ms", "6 4"]] as const) {
          const xy = bs.filter((r) => r[key] !== null && r[key]! > 0).map((r) => [sx(r.achievedMBps), sy(r[key]!)] as const);
          if (xy.length === 0) continue;
          o.push(
            `<polyline fill="none" stroke="${color}" stroke-width="2.5"${dash ? ` stroke-dasharray="${dash}"` : ""} points="${xy.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" ")}"/>`,
          );
          for (const [x, y] of xy) o.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3" fill="${color}"/>`);
        }
      }
    });
  });
  o.push(`<text x="${ml}" y="${H - 6}" font-size="10" fill="#666">end-to-end = producer stamp → consumer decoded it (JS wire client, same process clock); log scale</text>`);
  o.push("</svg>");
  return o.join("\n") + "\n";
}
