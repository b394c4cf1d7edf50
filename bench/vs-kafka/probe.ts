/**
 * Preloaded into a Bunka server by profile.ts (`bun --preload bench/vs-kafka/probe.ts
 * src/server.ts`) so the broker can be observed without changing it: every second it appends one
 * JSON line to $VSK_PROBE_OUT with event-loop utilisation (perf_hooks), event-loop delay (how late
 * a 5 ms timer fires: max and p99 over the second, and each tick more than VSK_PROBE_STALL_MS late)
 * and RSS.
 */
import { appendFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { heapStats } from "bun:jsc";

const out = process.env.VSK_PROBE_OUT;
if (out) {
  let lastElu = performance.eventLoopUtilization();
  const delays: number[] = [];
  let expected = performance.now() + 5;
  // every tick more than VSK_PROBE_STALL_MS (default 20) late, as [epoch ms when it was due, ms
  // late], to set beside the client's VSK_TRACE_OUT of late records
  const stallMs = Number(process.env.VSK_PROBE_STALL_MS ?? 20);
  const stalls: number[][] = [];
  const tick = () => {
    const now = performance.now();
    delays.push(Math.max(0, now - expected));
    if (now - expected > stallMs) stalls.push([Math.round(performance.timeOrigin + expected), Math.round(now - expected)]);
    expected = now + 5;
    setTimeout(tick, 5);
  };
  setTimeout(tick, 5);
  setInterval(() => {
    // VSK_PROBE_MARK=1: an epoch mark on stderr each second, to place the runtime's own stderr
    // lines (BUN_JSC_logGC=1 prints collections without a time) in the timeline
    if (process.env.VSK_PROBE_MARK === "1") process.stderr.write(`@mark ${Date.now()}\n`);
    const elu = performance.eventLoopUtilization(lastElu);
    lastElu = performance.eventLoopUtilization();
    const d = delays.splice(0).sort((a, b) => a - b);
    appendFileSync(
      out,
      JSON.stringify({
        t: Date.now(),
        elu: Number(elu.utilization.toFixed(3)),
        delayP99Ms: Number((d[Math.floor(d.length * 0.99)] ?? 0).toFixed(2)),
        delayMaxMs: Number((d[d.length - 1] ?? 0).toFixed(2)),
        // RSS only: process.memoryUsage() (heap statistics) took 6.7 % of the broker's samples
        // (636 ms in 8 s, so tens of ms per call) in a --cpu-prof run at 100 partitions × 10 MiB/s,
        // stalling the loop it observes; 0.1 ms in an idle process.
        rssMiB: Math.round(process.memoryUsage.rss() / 1048576),
        stalls: stalls.splice(0),
      }) + "\n",
    );
  }, 1000).unref();
  // VSK_PROBE_HEAP=1 (diagnosis only: heapStats walks the heap, a pause of its own): every 10 s
  // a line with the collector's heap size, extra memory (array buffers) and the commonest types
  if (process.env.VSK_PROBE_HEAP === "1") {
    setInterval(() => {
      const h = heapStats();
      const top = Object.entries(h.objectTypeCounts).sort((a, b) => b[1] - a[1]).slice(0, 12);
      appendFileSync(out, JSON.stringify({ t: Date.now(), heapMiB: h.heapSize / 1048576, capacityMiB: h.heapCapacity / 1048576, extraMiB: h.extraMemorySize / 1048576, objects: h.objectCount, top }) + "\n");
    }, 10_000).unref();
  }
}
