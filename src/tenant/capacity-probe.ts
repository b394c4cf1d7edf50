/**
 * Measures what this broker sustains on this machine (`bun run capacity`): it starts a scratch
 * broker (same config, temporary data dir, loopback port) and drives it with wire clients in three
 * phases, each `seconds` long:
 *   ingress   acks=all Produce of 256 x 1 KiB-record batches, 2 connections x 8 in flight, 4 partitions
 *   egress    Fetch of that data from the start, again and again, 2 connections x 4 in flight
 *   requests  small acks=1 Produce (one 100-byte record), 2 connections x 32 in flight
 * The figures are what the broker acknowledged, so they include the client cost on the same cores:
 * a conservative measure, which is the safe side for admission.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir, cpus } from "node:os";
import { join } from "node:path";
import * as C from "../client/codecs.ts";
import { WireClient } from "../client/wire-client.ts";
import { buildRecordBatch } from "../client/record-batch-builder.ts";
import type { MeasuredCapacity } from "./capacity-store.ts";

const REPO_ROOT = join(import.meta.dir, "..", "..");
const TOPIC = "capacity-probe";
const PARTITIONS = 4;
const LISTENING = /^bunka listening on (\S+):(\d+)\s*$/m;

export interface ProbeOptions {
  seconds: number;
  /** server.properties of the broker being measured (its settings, e.g. flush mode, apply). */
  configFile?: string;
  overrides: string[];
  log: (line: string) => void;
}

interface Scratch {
  host: string;
  port: number;
  stop(): Promise<void>;
}

async function startScratchBroker(o: ProbeOptions): Promise<Scratch> {
  const dir = mkdtempSync(join(tmpdir(), "bunka-capacity-"));
  const args = ["bun", join(REPO_ROOT, "src", "server.ts")];
  if (o.configFile) args.push(o.configFile);
  for (const kv of [...o.overrides, `log.dirs=${dir}`, "listeners=PLAINTEXT://127.0.0.1:0", "advertised.listeners=PLAINTEXT://127.0.0.1:0"]) args.push("--override", kv);
  const proc = Bun.spawn(args, { stdout: "pipe", stderr: "inherit" });
  const reader = proc.stdout.getReader();
  let text = "";
  const deadline = Date.now() + 30_000;
  let m: RegExpExecArray | null = null;
  while (!(m = LISTENING.exec(text))) {
    if (Date.now() > deadline) throw new Error("scratch broker did not start in 30 s");
    const { value, done } = await reader.read();
    if (done) throw new Error(`scratch broker exited: ${text}`);
    text += new TextDecoder().decode(value);
  }
  void (async () => { while (!(await reader.read()).done); })(); // keep draining its output
  return {
    host: m[1]!,
    port: Number(m[2]),
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `inFlight` request loops on each client until the phase ends; returns units done per second. */
async function phase(clients: WireClient[], inFlight: number, seconds: number, one: (c: WireClient, i: number) => Promise<number>): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let done = 0;
  let i = 0;
  const loop = async (c: WireClient) => {
    while (performance.now() < end) {
      const n = await one(c, i++); // not `done += await ...`: that reads `done` before the await
      done += n;
    }
  };
  const started = performance.now();
  await Promise.all(clients.flatMap((c) => Array.from({ length: inFlight }, () => loop(c))));
  return (done * 1000) / (performance.now() - started);
}

export async function probeCapacity(o: ProbeOptions): Promise<MeasuredCapacity> {
  const broker = await startScratchBroker(o);
  const clients: WireClient[] = [];
  try {
    for (let i = 0; i < 2; i++) clients.push(await WireClient.connect(broker.host, broker.port, `capacity-${i}`));
    const created = await clients[0]!.send(C.CreateTopics, 7, {
      topics: [{ name: TOPIC, numPartitions: PARTITIONS, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 10_000, validateOnly: false,
    });
    if (created.topics[0]!.errorCode !== 0) throw new Error(`creating ${TOPIC}: error ${created.topics[0]!.errorCode}`);

    const value = new Uint8Array(1024).fill(0x61);
    const big = buildRecordBatch(Array.from({ length: 256 }, () => ({ key: null, value })));
    const produce = async (c: WireClient, i: number, batch: Uint8Array, acks: number) => {
      const res = await c.send(C.Produce, 9, { acks, timeoutMs: 30_000, topicData: [{ name: TOPIC, partitionData: [{ index: i % PARTITIONS, records: batch }] }] });
      return res.responses[0]!.partitionResponses[0]!.errorCode === 0 ? batch.length : 0;
    };
    const ingress = await phase(clients, 8, o.seconds, (c, i) => produce(c, i, big, -1));
    o.log(`ingress  ${(ingress / 1048576).toFixed(1)} MiB/s`);

    const ends = new Array<number>(PARTITIONS).fill(0);
    const egress = await phase(clients, 4, o.seconds, async (c, i) => {
      const p = i % PARTITIONS;
      const res = await c.send(C.Fetch, 12, {
        maxWaitMs: 0, minBytes: 0, maxBytes: 8 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
        topics: [{ topic: TOPIC, partitions: [{ partition: p, fetchOffset: ends[p]!, partitionMaxBytes: 8 << 20 }] }], forgottenTopicsData: [], rackId: "",
      });
      const part = res.responses[0]!.partitions[0]!;
      const bytes = part.records?.length ?? 0;
      // Read the partition again from the start once at its end (the data is all there is).
      ends[p] = bytes === 0 ? 0 : Math.min(part.highWatermark, ends[p]! + 256 * Math.max(1, Math.floor(bytes / big.length)));
      return bytes;
    });
    o.log(`egress   ${(egress / 1048576).toFixed(1)} MiB/s`);

    const small = buildRecordBatch([{ key: null, value: new Uint8Array(100).fill(0x62) }]);
    const requests = await phase(clients, 32, o.seconds, async (c, i) => ((await produce(c, i, small, 1)) > 0 ? 1 : 0));
    o.log(`requests ${Math.round(requests)}/s`);

    return {
      ingressBytesPerSec: Math.floor(ingress),
      egressBytesPerSec: Math.floor(egress),
      requestsPerSec: Math.floor(requests),
      measuredAtMs: Date.now(),
      method: `bun run capacity on ${hostname()} (${cpus().length} cores), ${o.seconds} s per phase, 2 connections; ` +
        "ingress acks=all 256 x 1 KiB batches x 8 in flight; egress fetch 8 MiB x 4 in flight; requests 100-byte acks=1 produce x 32 in flight",
    };
  } finally {
    for (const c of clients) c.close();
    await broker.stop();
  }
}
