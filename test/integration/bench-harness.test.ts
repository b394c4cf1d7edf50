// The Kafka-vs-Bunka benchmark harness (bench/vs-kafka/run.ts) works: a tiny run against Bunka
// alone (no JVM) writes a well-formed result set into a temporary directory. This checks the
// harness, not the figures.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "../support/broker.ts";

const out = mkdtempSync(join(tmpdir(), "bench-harness-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const LATENCY_KEYS = ["broker", "partitions", "targetMBps", "achievedMBps", "durability", "metric", "tool", "p50Ms", "p95Ms", "p99Ms", "p999Ms"] as const;

test(
  "bench:vs-kafka --only bunka --tiny writes JSON rows, Markdown and SVG",
  async () => {
    const proc = Bun.spawn(["bun", join(REPO_ROOT, "bench", "vs-kafka", "run.ts"), "--only", "bunka", "--tiny", "--durability", "fsync", "--quiet-gate", "100", "--out", out], {
      cwd: REPO_ROOT,
      env: { ...process.env, MIMALLOC_PURGE_DELAY: undefined },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    if (code !== 0) throw new Error(`harness exited ${code}\n${stdout.slice(-4000)}\n${stderr.slice(-4000)}`);

    const files = readdirSync(out);
    for (const f of ["latest.json", "latest.md", "latest.svg"]) expect(files).toContain(f);
    expect(files.some((f) => /^\d{4}-\d\d-\d\dT[\d-]+Z\.json$/.test(f))).toBe(true);
    // started without MIMALLOC_PURGE_DELAY (the spawn env is the test's), the runner measured
    // under the broker's allocator settings (bench/lib/client-process-env.ts)
    const envFile = files.find((f) => /Z\.env\.json$/.test(f));
    expect(envFile).toBeDefined();
    const env = JSON.parse(readFileSync(join(out, envFile!), "utf8"));
    expect(env.clientMimallocPurgeDelay).toBe("-1");
    // the quiet gate asked for on the command line is the one the run used (off by default in --tiny)
    expect(env.config.steal.gate).toEqual({ stealLimitPct: 100, probeMs: 1000, pauseMs: 5000, maxWaitMs: 90_000 });

    const rows = JSON.parse(readFileSync(join(out, "latest.json"), "utf8")) as Record<string, unknown>[];
    expect(Array.isArray(rows)).toBe(true);
    const latency = rows.filter((r) => r.metric === "produce" || r.metric === "e2e");
    // open-loop produce+e2e and tinybench produce+e2e
    expect(latency.length).toBe(4);
    for (const r of latency) {
      for (const k of LATENCY_KEYS) expect(r).toHaveProperty(k);
      expect(r.broker).toBe("bunka");
      expect(r.durability).toBe("fsync");
      expect(typeof r.tool).toBe("string");
      for (const k of ["partitions", "achievedMBps", "p50Ms", "p95Ms", "p99Ms", "p999Ms"] as const) {
        const v = r[k];
        expect(typeof v).toBe("number");
        expect(Number.isFinite(v as number) && (v as number) > 0).toBe(true);
      }
      expect(r.p50Ms as number).toBeLessThanOrEqual(r.p99Ms as number);
      expect(r.p99Ms as number).toBeLessThanOrEqual(r.p999Ms as number);
      expect(Number.isFinite(r.targetMBps as number) && (r.targetMBps as number) >= 0).toBe(true);
    }
    const openLoop = latency.filter((r) => r.tool === "wire-client/open-loop");
    expect(openLoop.map((r) => r.metric).sort()).toEqual(["e2e", "produce"]);
    for (const r of openLoop) {
      expect(r.targetMBps).toBe(1);
      expect(r.achievedMBps as number).toBeGreaterThan(0.5);
    }

    const extras = rows.filter((r) => !latency.includes(r));
    for (const m of ["startup", "recovery", "rss"]) expect(extras.some((r) => r.metric === m)).toBe(true);
    for (const r of extras) {
      expect(Number.isFinite(r.value as number) && (r.value as number) > 0).toBe(true);
      expect(["ms", "MiB"]).toContain(r.unit as string);
    }

    const md = readFileSync(join(out, "latest.md"), "utf8");
    expect(md).toContain("| durability | partitions | target |");
    expect(md).toContain("wire-client/open-loop");
    const svg = readFileSync(join(out, "latest.svg"), "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(svg).toContain("<polyline");
  },
  60_000,
);

test("a bad --repeat, --quiet-gate or --skip is refused before any broker starts", async () => {
  const refusedOut = mkdtempSync(join(tmpdir(), "bench-harness-refused-"));
  try {
    const cases: [string, string, string][] = [
      ...["0", "-2", "1.5", "many"].map((bad): [string, string, string] => ["--repeat", bad, "--repeat takes a whole number of runs"]),
      ...["-1", "quiet"].map((bad): [string, string, string] => ["--quiet-gate", bad, "--quiet-gate takes a steal percent"]),
      ...["max,grid", "rates"].map((bad): [string, string, string] => ["--skip", bad, "--skip takes max, seq and recovery"]),
    ];
    for (const [option, bad, message] of cases) {
      const proc = Bun.spawn(["bun", join(REPO_ROOT, "bench", "vs-kafka", "run.ts"), "--only", "bunka", "--tiny", option, bad, "--out", refusedOut], {
        cwd: REPO_ROOT,
        stdout: "pipe",
        stderr: "pipe",
      });
      const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
      expect(code).not.toBe(0);
      expect(stderr).toContain(message);
      expect(readdirSync(refusedOut)).toEqual([]);
    }
  } finally {
    rmSync(refusedOut, { recursive: true, force: true });
  }
});
