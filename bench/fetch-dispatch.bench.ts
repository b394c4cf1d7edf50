/**
 * Broker CPU per Fetch at many partitions, without sockets: an in-process broker (flush-interval
 * mode, as Bunka's `none` benchmark rows run) with one topic of 1000 partitions. Each round
 * produces one 1 KiB record to each of `withData` consecutive partitions (not timed), then one
 * consumer Fetch (v12, min_bytes 1) on all partitions is dispatched and timed: request parse,
 * session bookkeeping, reads from the memory tier, response encoding. Two consumers, alternated
 * round by round so the VM's swings hit both alike:
 *   - `full`: sessionless, every request lists all partitions (the benchmark's open-loop client
 *     until session 6);
 *   - `session`: an incremental fetch session (KIP-227) as the Java client and librdkafka keep
 *     one: requests list only the partitions whose fetch offset moved; responses carry only
 *     partitions with news;
 *   - `parked`: the same session consumer, but its Fetch (max wait 500 ms) is dispatched before the
 *     round's records exist, so it waits in the purgatory and is woken by the produce — the open-loop
 *     benchmark's consumer at the log end; timed from before the produce until the answer (its CPU
 *     therefore includes the produce).
 * Prints, per mode, the median wall time of a Fetch's dispatch and its mean CPU time (user +
 * system, this process; the kernel accounts CPU in ticks, so only a mean over many is meaningful).
 *
 *   bun bench/fetch-dispatch.bench.ts [rounds] [withData] [partitions] [both|full|session|parked]
 *   BUN_JSC_logGC=1 bun bench/fetch-dispatch.bench.ts 4000 13 100 session 2>&1 | grep -c START   # collections
 */
import * as C from "../src/client/codecs.ts";
import { buildRecordBatch } from "../src/client/record-batch-builder.ts";
import { decodeResponse, encodeRequest } from "../src/client/wire-client.ts";
import type { FetchRequest } from "../src/protocol/generated/fetch-request.ts";
import type { FetchResponse } from "../src/protocol/generated/fetch-response.ts";
import { releaseResponse } from "../src/net/connection.ts";
import { brokerWithTopic } from "./lib/in-process-topic.ts";
import { FetchSessionClient } from "./vs-kafka/fetch-session.ts";

const rounds = Number(process.argv[2] ?? 2000);
const withData = Number(process.argv[3] ?? 300);
const PARTITIONS = Number(process.argv[4] ?? 1000);
/** "both" (default: full and session), "full", "session" or "parked" (alone: it produces its own rounds): which consumers fetch. */
const modes = process.argv[5] ?? "both";
const TOPIC = "fetch-dispatch";
const PARTITION_MAX_BYTES = 4 << 20;
const MAX_BYTES = 64 << 20;

const b = await brokerWithTopic("fetch-dispatch", TOPIC, PARTITIONS, { "log.flush.interval.ms": "60000" });

const batch = buildRecordBatch([{ value: new Uint8Array(1024 - 70).fill(7) }]);
let correlationId = 1;
let rr = 0;

/** Log end offsets as produced so far: where a consumer that read everything stands. */
const produced = new Array<number>(PARTITIONS).fill(0);
// Produce frames encoded once per starting partition (the log patches offsets into a copy).
const produceFrames = new Map<number, Uint8Array>();
function produceFrame(first: number): Uint8Array {
  let f = produceFrames.get(first);
  if (f === undefined) {
    const partitionData = Array.from({ length: withData }, (_, i) => ({ index: (first + i) % PARTITIONS, records: batch }));
    const req = { transactionalId: null, acks: -1, timeoutMs: 30_000, topicData: [{ name: TOPIC, partitionData }] };
    f = encodeRequest(C.Produce, 9, 0, "bench", req).toBytes().subarray(4);
    produceFrames.set(first, f);
  }
  return f.slice();
}

async function produceRound(): Promise<void> {
  const result = await b.dispatchRaw(produceFrame(rr));
  if (result === null || result === "close") throw new Error("no produce response");
  for (let i = 0; i < withData; i++) (produced[(rr + i) % PARTITIONS] as number)++;
  rr = (rr + withData) % PARTITIONS;
}

/** One consumer: its fetch offsets and, in session mode, the benchmark client's fetch session. */
class Consumer {
  private readonly offsets = new Array<number>(PARTITIONS).fill(0);
  private readonly session: FetchSessionClient | null;
  cpuMicros: number[] = [];
  wallMicros: number[] = [];
  constructor(
    readonly useSession: boolean,
    readonly parked = false,
  ) {
    this.session = useSession ? new FetchSessionClient(TOPIC, PARTITIONS, PARTITION_MAX_BYTES) : null;
  }

  get name(): string {
    return this.parked ? "parked " : this.useSession ? "session" : "full   ";
  }

  request(): FetchRequest {
    if (this.session !== null) return this.session.request(this.offsets, this.parked ? 500 : 0, MAX_BYTES);
    return {
      replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: MAX_BYTES, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic: TOPIC, partitions: this.offsets.map((fetchOffset, partition) => ({ partition, currentLeaderEpoch: -1, fetchOffset, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: PARTITION_MAX_BYTES })) }],
      forgottenTopicsData: [], rackId: "",
    };
  }

  /** Parked: the round's produce runs after the Fetch is dispatched (and is timed with it). */
  async fetch(): Promise<void> {
    const id = correlationId++;
    const frame = encodeRequest(C.Fetch, 12, id, "bench", this.request()).toBytes().subarray(4);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const pending = b.dispatchRaw(frame);
    if (this.parked) await produceRound();
    const result = await pending;
    this.wallMicros.push((performance.now() - t0) * 1000);
    const cpu = process.cpuUsage(c0);
    this.cpuMicros.push(cpu.user + cpu.system);
    if (result === null || result === "close") throw new Error("no fetch response");
    // Every 50th answer is decoded whole and checked (every produced record returned); the others
    // only for the session id, so that decoding does not dominate the bench's own time.
    const head = result[0] as Uint8Array;
    if (id % 50 === 0) {
      const res: FetchResponse = decodeResponse(1, 12, id, Buffer.concat(result).subarray(4), (r) => C.Fetch.readResponse(r, 12));
      if (res.errorCode !== 0) throw new Error(`fetch error ${res.errorCode}`);
      for (const t of res.responses)
        for (const p of t.partitions) {
          if (p.errorCode !== 0) throw new Error(`fetch ${p.partitionIndex}: error ${p.errorCode}`);
          if (p.records && p.records.length > 0 && p.highWatermark !== produced[p.partitionIndex]) throw new Error(`partition ${p.partitionIndex}: high watermark ${p.highWatermark}, produced ${produced[p.partitionIndex]}`);
        }
    }
    // v12 answer: size, correlation id, header tags (1 byte), throttle (4), error (2), session id (4)
    const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
    if (v.getInt16(13) !== 0) throw new Error(`fetch error ${v.getInt16(13)}`);
    this.session?.answered(0, v.getInt32(15));
    // min_bytes 1 and room for everything: the answer carried every record produced so far
    for (let p = 0; p < PARTITIONS; p++) this.offsets[p] = produced[p] as number;
    releaseResponse(result); // as a connection does once the socket took it (pooled blocks reused)
  }
}

const consumers = [new Consumer(false), new Consumer(true), new Consumer(true, true)].filter((c) =>
  modes === "both" ? !c.parked : c.name.trim() === modes,
);
// The parked consumer produces its own rounds (its first Fetch, the full session request, finds no
// data either: nothing was produced before it); the others fetch what one shared produce added.
for (let round = 0; round < rounds; round++) {
  if (modes !== "parked") await produceRound();
  for (const c of round % 2 === 0 ? consumers : [...consumers].reverse()) await c.fetch();
}
const median = (xs: number[]) => [...xs].sort((a, c) => a - c)[xs.length >> 1] as number;
const mean = (xs: number[]) => xs.reduce((a, c) => a + c, 0) / xs.length;
for (const c of consumers) {
  // the first tenth warms the JIT; CPU time is accounted in ticks, so its mean (not a median)
  const from = Math.floor(rounds / 10);
  const cpu = mean(c.cpuMicros.slice(from));
  const wall = median(c.wallMicros.slice(from));
  console.log(`${c.name}: per Fetch ${wall.toFixed(0)} µs wall (median), ${cpu.toFixed(0)} µs CPU (mean); ${PARTITIONS} partitions, ${withData} with new data per round, ${rounds - from} fetches`);
}
await b.close(true);
process.exit(0);
