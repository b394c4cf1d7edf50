/**
 * The JS client suite, on the wire client's codecs (src/client/, via ./client.ts): no client library, so what
 * is measured is the broker plus loopback plus this (single-threaded) client.
 *
 * openLoop(): an open-loop producer at a target rate of 1 KiB records, round-robin over all
 * partitions, with one consumer fetching every partition, both on their own connection:
 *   - every ~1 ms tick the records that are due are stamped (performance.now()) and queued;
 *   - whenever fewer than `maxInFlight` Produce requests (acks=-1, v9) are outstanding, everything
 *     queued goes out in one request, one batch per partition (so batches grow under load, as a
 *     real producer's do with linger.ms=0);
 *   - the consumer long-polls Fetch v12 (max wait 200 ms, min 1 byte) in an incremental fetch
 *     session (KIP-227, fetch-session.ts), as the Java consumer and librdkafka do: after the first
 *     request only partitions whose offset moved are listed, and the broker answers only
 *     partitions with news;
 *   - produce latency of a record = ack received − stamp; e2e latency = the consumer decoded it −
 *     stamp (one clock, one process);
 *   - only records stamped after the warm-up count; achieved MB/s = acknowledged measured bytes /
 *     measured time.
 * Percentiles use bench/lib/stats.ts (linear interpolation between closest ranks, tinybench's rule).
 *
 * sequential(): tinybench tasks with one request at a time on partition 0: "produce" (acks=-1
 * round trip) and "e2e" (produce, then a Fetch at the returned offset) — the same shape as Kafka's
 * EndToEndLatency tool, at microsecond resolution. tinybench reports p50/p99/p99.9 itself; p95 from
 * its retained samples.
 */
import { writeFileSync } from "node:fs";
import { Bench } from "tinybench";
import { Fetch, Produce } from "../../src/client/codecs.ts";
import { buildRecordBatch } from "../../src/client/record-batch-builder.ts";
import { WireClient } from "../../src/client/wire-client.ts";
import type { FetchRequest } from "../../src/protocol/generated/fetch-request.ts";
import type { FetchResponse } from "../../src/protocol/generated/fetch-response.ts";
import type { ProduceRequest } from "../../src/protocol/generated/produce-request.ts";
import { buildStampedBatch, forEachStamp, readRecordValues, stampValue } from "../lib/records.ts";
import { SampleLog } from "../lib/sample-log.ts";
import { quantile } from "../lib/stats.ts";
import { endOffsets } from "./brokers.ts";
import { FetchSessionClient } from "./fetch-session.ts";

export const RECORD_BYTES = 1024;
const MiB = 1024 * 1024;
const PARTITION_MAX_BYTES = 4 * MiB;

export interface Percentiles {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

export function percentiles(samples: ArrayLike<number>): Percentiles {
  const s = Float64Array.from(samples).sort();
  return {
    n: s.length,
    p50: quantile(s, 0.5),
    p95: quantile(s, 0.95),
    p99: quantile(s, 0.99),
    p999: quantile(s, 0.999),
    max: s.length ? s[s.length - 1]! : Number.NaN,
  };
}

export interface OpenLoopOptions {
  host: string;
  port: number;
  topic: string;
  partitions: number;
  /** MiB/s of 1 KiB records. */
  targetMBps: number;
  warmupMs: number;
  durationMs: number;
  maxInFlight?: number;
  /** Called every ~250 ms while running (RSS sampling). */
  onTick?: () => void;
}

export interface OpenLoopResult {
  produce: Percentiles;
  e2e: Percentiles;
  achievedMBps: number;
  /** Records stamped in the measured window that were never acknowledged / never consumed in time. */
  unacked: number;
  unconsumed: number;
  requests: number;
  /** Mean records per Produce request (client-side batching that the rate caused). */
  recordsPerRequest: number;
}

function produceReq(topic: string, batches: Map<number, Uint8Array>): ProduceRequest {
  return {
    transactionalId: null,
    acks: -1,
    timeoutMs: 30_000,
    topicData: [{ name: topic, partitionData: [...batches].map(([index, records]) => ({ index, records })) }],
  };
}

function fetchReq(topic: string, offsets: number[], maxWaitMs: number): FetchRequest {
  return {
    replicaId: -1,
    maxWaitMs,
    minBytes: 1,
    maxBytes: 64 * MiB,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic,
        partitions: offsets.map((fetchOffset, partition) => ({
          partition,
          currentLeaderEpoch: -1,
          fetchOffset,
          lastFetchedEpoch: -1,
          logStartOffset: -1,
          partitionMaxBytes: PARTITION_MAX_BYTES,
        })),
      },
    ],
    forgottenTopicsData: [],
    rackId: "",
  };
}

/**
 * VSK_TRACE_OUT=file (and VSK_TRACE_LATE_MS, default 20): diagnostics for a latency tail — the open loop writes there (JSON; the
 * n-th open loop of a process, as in a run.ts pass, writes `file.n`) every
 * measured record consumed later than TRACE_LATE_MS ([epoch ms stamped, e2e ms, partition]) or
 * acknowledged later ([epoch ms stamped, produce ms]), and every gap of
 * this client's own 1 ms tick above it ([epoch ms, gap ms]), to set beside the broker probe's stalls.
 */
const TRACE_LATE_MS = Number(process.env.VSK_TRACE_LATE_MS ?? 20);
/** Open loops traced so far in this process: the first writes VSK_TRACE_OUT, the n-th `<file>.<n>`. */
let tracesWritten = 0;
const epoch = (perfNow: number) => Math.round(performance.timeOrigin + perfNow);

const TEMPLATE = (() => {
  const v = new Uint8Array(RECORD_BYTES);
  for (let i = 16; i < RECORD_BYTES; i++) v[i] = (i * 131 + 7) & 0xff;
  return v;
})();

export async function openLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const maxInFlight = o.maxInFlight ?? 5;
  const prod = await WireClient.connect(o.host, o.port, "vs-kafka-producer");
  const cons = await WireClient.connect(o.host, o.port, "vs-kafka-consumer");
  try {
    const offsets = await endOffsets(cons, o.topic, o.partitions);
    const ratePerMs = (o.targetMBps * MiB) / RECORD_BYTES / 1000;
    // one sample per measured record each, with room for a backlog drained after the window
    const expectedSamples = ratePerMs * o.durationMs * 1.25;
    const produceSamples = new SampleLog(expectedSamples);
    const e2eSamples = new SampleLog(expectedSamples);
    let seq = 0;
    let generated = 0;
    let measuredGenerated = 0;
    let measuredAcked = 0;
    let measuredConsumed = 0;
    let inFlight = 0;
    let requests = 0;
    let recordsSent = 0;
    let failure: Error | null = null;
    // pending[p]: send times of the records queued for partition p (their values are made when
    // the batch is built: one buffer per batch, not an allocation per record)
    const pending: number[][] = Array.from({ length: o.partitions }, () => []);
    const pendingParts = new Set<number>();
    let rr = 0;
    const t0 = performance.now();
    const measureFrom = t0 + o.warmupMs;
    const stopAt = measureFrom + o.durationMs;
    let generating = true;
    const trace = process.env.VSK_TRACE_OUT ? { clientStalls: [] as number[][], lateRecords: [] as number[][], lateAcks: [] as number[][] } : null;

    // Batches are built into this scratch buffer, reused by every request: prod.send() encodes the
    // request and copies every batch into the frame before it returns (WireClient sends one buffer
    // per frame), so nothing points into it afterwards. A fresh buffer per batch was a third of this
    // client's allocation, and its collector pauses land in the latencies it measures.
    const scratch = new Uint8Array(2 * MiB);
    const flush = () => {
      while (inFlight < maxInFlight && pendingParts.size > 0 && !failure) {
        const batches = new Map<number, Uint8Array>();
        const stamps: number[] = [];
        let bytes = 0;
        let scratchUsed = 0;
        const now = Date.now();
        for (const p of pendingParts) {
          const q = pending[p]!;
          // at most ~1 MiB per partition batch and ~8 MiB per request
          const take = Math.min(q.length, 1000);
          const batch = buildStampedBatch(q, 0, take, seq, TEMPLATE, now, scratch.subarray(scratchUsed));
          if (batch.buffer === scratch.buffer) scratchUsed += batch.length;
          batches.set(p, batch);
          seq += take;
          for (let i = 0; i < take; i++) stamps.push(q[i]!);
          q.splice(0, take);
          if (q.length === 0) pendingParts.delete(p);
          bytes += take * RECORD_BYTES;
          if (bytes >= 8 * MiB) break;
        }
        inFlight++;
        requests++;
        recordsSent += stamps.length;
        prod.send(Produce, 9, produceReq(o.topic, batches)).then(
          (res) => {
            inFlight--;
            const now = performance.now();
            for (const t of res.responses)
              for (const pr of t.partitionResponses)
                if (pr.errorCode !== 0) failure ??= new Error(`Produce ${o.topic}/${pr.index}: error ${pr.errorCode} ${pr.errorMessage ?? ""}`);
            for (const s of stamps) {
              if (s >= measureFrom && s < stopAt) {
                produceSamples.push(now - s);
                if (trace && now - s > TRACE_LATE_MS) trace.lateAcks.push([epoch(s), Math.round(now - s)]);
                measuredAcked++;
              }
            }
            flush();
          },
          (e) => {
            inFlight--;
            failure ??= e as Error;
          },
        );
      }
    };

    const tick = () => {
      if (!generating) return;
      const now = performance.now();
      if (trace && now - lastTick > TRACE_LATE_MS) trace.clientStalls.push([epoch(lastTick), Math.round(now - lastTick)]);
      lastTick = now;
      if (now >= stopAt) {
        generating = false;
        return;
      }
      const due = Math.floor((now - t0) * ratePerMs) - generated;
      for (let i = 0; i < due; i++) {
        const p = rr;
        rr = rr + 1 === o.partitions ? 0 : rr + 1;
        pending[p]!.push(now);
        pendingParts.add(p);
        if (now >= measureFrom) measuredGenerated++;
      }
      if (due > 0) generated += due;
      flush();
      setTimeout(tick, 1);
    };

    // consumer loop, in an incremental fetch session as real clients keep one
    let consuming = true;
    const session = new FetchSessionClient(o.topic, o.partitions, PARTITION_MAX_BYTES);
    const consumer = (async () => {
      // Each answer is read inside the socket callback (sendAndConsume), so its frame is reused.
      const take = (res: FetchResponse): void => {
        const now = performance.now();
        if (!session.answered(res.errorCode ?? 0, res.sessionId ?? 0)) return;
        if (res.errorCode) throw new Error(`Fetch error ${res.errorCode}`);
        for (const t of res.responses) {
          for (const pd of t.partitions) {
            if (pd.errorCode !== 0) throw new Error(`Fetch ${o.topic}/${pd.partitionIndex}: error ${pd.errorCode}`);
            const partition = pd.partitionIndex;
            forEachStamp((pd.records as Uint8Array | null) ?? null, (offset, sentAt) => {
              if (offset < offsets[partition]!) return;
              offsets[partition] = offset + 1;
              if (sentAt !== null && sentAt >= measureFrom && sentAt < stopAt) {
                e2eSamples.push(now - sentAt);
                if (trace && now - sentAt > TRACE_LATE_MS) trace.lateRecords.push([epoch(sentAt), Math.round(now - sentAt), partition]);
                measuredConsumed++;
              }
            });
          }
        }
      };
      while (consuming && !failure) await cons.sendAndConsume(Fetch, 12, session.request(offsets, 200, 64 * MiB), take);
    })();
    consumer.catch((e) => (failure ??= e as Error));

    let lastTickCb = performance.now();
    let lastTick = performance.now();
    setTimeout(tick, 0);
    while (generating && !failure) {
      await Bun.sleep(50);
      if (o.onTick && performance.now() - lastTickCb >= 250) {
        lastTickCb = performance.now();
        o.onTick();
      }
    }
    // drain: all acks, then the consumer catching up (bounded)
    const drainDeadline = performance.now() + 30_000;
    while (!failure && (inFlight > 0 || pendingParts.size > 0) && performance.now() < drainDeadline) {
      flush();
      await Bun.sleep(5);
    }
    while (!failure && measuredConsumed < measuredAcked && performance.now() < drainDeadline) await Bun.sleep(5);
    consuming = false;
    if (trace) {
      tracesWritten++;
      const file = process.env.VSK_TRACE_OUT!;
      writeFileSync(tracesWritten === 1 ? file : `${file}.${tracesWritten}`, JSON.stringify(trace));
    }
    if (failure) throw failure;
    const measuredSeconds = o.durationMs / 1000;
    return {
      produce: percentiles(produceSamples.values()),
      e2e: percentiles(e2eSamples.values()),
      achievedMBps: (measuredAcked * RECORD_BYTES) / MiB / measuredSeconds,
      unacked: measuredGenerated - measuredAcked,
      unconsumed: measuredGenerated - measuredConsumed,
      requests,
      recordsPerRequest: requests ? recordsSent / requests : 0,
    };
  } finally {
    prod.close();
    cons.close();
  }
}

export interface SequentialResult {
  produce: Percentiles;
  e2e: Percentiles;
  /** MiB/s of the e2e loop (one record at a time). */
  achievedMBps: number;
}

/** tinybench: one record at a time on partition 0 of `topic`. */
export async function sequential(host: string, port: number, topic: string, timeMs: number): Promise<SequentialResult> {
  const c = await WireClient.connect(host, port, "vs-kafka-seq");
  try {
    let seq = 0;
    const mk = () => {
      const v = TEMPLATE.slice();
      stampValue(v, seq++, performance.now());
      return buildRecordBatch([{ value: v }]);
    };
    const send = async () => {
      const res = await c.send(Produce, 9, produceReq(topic, new Map([[0, mk()]])));
      const pr = res.responses[0]!.partitionResponses[0]!;
      if (pr.errorCode !== 0) throw new Error(`Produce error ${pr.errorCode}`);
      return pr.baseOffset;
    };
    const bench = new Bench({ name: "sequential", time: timeMs, warmupTime: Math.min(500, timeMs / 4), retainSamples: true, throws: true });
    bench.add("produce", async () => {
      await send();
    });
    bench.add("e2e", async () => {
      const off = await send();
      const offsets = [off];
      while (true) {
        const res = await c.send(Fetch, 12, fetchReq(topic, offsets, 500));
        const pd = res.responses[0]?.partitions[0];
        if (pd && pd.errorCode !== 0) throw new Error(`Fetch error ${pd.errorCode}`);
        if (readRecordValues((pd?.records as Uint8Array | null) ?? null).some((r) => r.offset === off)) break;
      }
    });
    await bench.run();
    const conv = (name: string): Percentiles => {
      const t = bench.tasks.find((x) => x.name === name)!;
      const r = t.result;
      if (r.state !== "completed") throw new Error(`tinybench task ${name}: ${r.state} ${"error" in r ? String(r.error) : ""}`);
      const lat = r.latency;
      return {
        n: lat.samplesCount,
        p50: lat.p50,
        p95: lat.samples && lat.samples.length ? quantile(Float64Array.from(lat.samples).sort(), 0.95) : Number.NaN,
        p99: lat.p99,
        p999: lat.p999,
        max: lat.max,
      };
    };
    const e2e = conv("e2e");
    const meanE2e = bench.tasks.find((x) => x.name === "e2e")!.result;
    const mean = meanE2e.state === "completed" ? meanE2e.latency.mean : Number.NaN;
    return { produce: conv("produce"), e2e, achievedMBps: RECORD_BYTES / MiB / (mean / 1000) };
  } finally {
    c.close();
  }
}
