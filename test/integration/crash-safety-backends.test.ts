// Crash safety per segment I/O backend (bunka.log.io). crash-safety.test.ts runs the default
// (auto: io_uring where the kernel allows it); this variant forces each backend in turn on ONE
// data dir: load with acks=all under backend A, SIGKILL mid-flight, restart under backend B,
// check every acknowledged record is there with its content at its offset, offsets contiguous and
// the high watermark covering every ack; then load under B, kill, restart under C, and so on. So
// it also checks that each backend recovers what another one wrote. The broker's startup line
// must name the backend it runs.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBunka, type BrokerHandle } from "../support/broker.ts";
import { Prng, WireClient, createTopics, fetchAll, hashBytes, produceRaw } from "../support/load.ts";
import { buildRecordBatch, type ProducedRecord } from "../../src/client/record-batch-builder.ts";
import { ioUringProbe } from "../../src/native/index.ts";

const SEED = Number(process.env.BUNKA_CRASH_SEED ?? (Date.now() % 2 ** 31));
const TOPIC = "crash-io";
const PARTITIONS = 3;
const PRODUCERS = 3;
const IN_FLIGHT_PER_PRODUCER = 6;
const LOAD_MS = 1500;
const URING = ioUringProbe() === "";
/** Backend of each load phase; the restart after the last kill runs `auto`. */
const PHASES = URING ? ["io_uring", "pwrite", "js", "io_uring"] : ["pwrite", "js", "pwrite"];
const EXPECTED_LINE: Record<string, RegExp> = {
  io_uring: /segment I\/O: io_uring on a native thread \(bunka\.log\.io=io_uring[,)]/,
  pwrite: /segment I\/O: pwrite on a native thread \(bunka\.log\.io=pwrite\)/,
  js: /segment I\/O: js /,
  auto: URING ? /segment I\/O: io_uring on a native thread \(bunka\.log\.io=auto[,)]/ : /segment I\/O: pwrite-fallback .*io_uring refused/,
};

const dataDir = mkdtempSync(join(tmpdir(), "bunka-crash-io-"));
let broker: BrokerHandle | null = null;
let port = 0;
const acked: Map<number, string>[] = Array.from({ length: PARTITIONS }, () => new Map());

afterAll(async () => {
  await broker?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

async function start(backend: string): Promise<BrokerHandle> {
  const b = await startBunka({ name: `crash-io-${backend}`, dataDir, port, overrides: { "bunka.log.io": backend } });
  port = b.port;
  const log = readFileSync(b.logFile, "utf8");
  expect(log).toMatch(EXPECTED_LINE[backend]!);
  return b;
}

async function loadThenKill(b: BrokerHandle, phase: number, rng: Prng): Promise<{ acked: number; inFlightAtKill: number; errors: number }> {
  let stopped = false;
  let inFlight = 0;
  let ackedRequests = 0;
  let errors = 0;
  const clients: WireClient[] = [];
  for (let i = 0; i < PRODUCERS; i++) clients.push(await WireClient.connect(b.host, b.port, `crash-io-${i}`));
  let seq = 0;
  const loops: Promise<void>[] = [];
  for (let p = 0; p < PRODUCERS; p++) {
    for (let l = 0; l < IN_FLIGHT_PER_PRODUCER; l++) {
      const lr = new Prng(rng.u32());
      loops.push(
        (async () => {
          while (!stopped) {
            const partition = lr.int(PARTITIONS);
            const n = 1 + lr.int(10);
            const records: ProducedRecord[] = [];
            for (let i = 0; i < n; i++) {
              const id = `ph${phase}-p${p}-l${l}-${seq++}`;
              records.push({ key: new TextEncoder().encode(id), value: Buffer.concat([new TextEncoder().encode(id), lr.bytes(lr.int(2000))]) });
            }
            inFlight++;
            let res;
            try {
              res = await produceRaw(clients[p]!, TOPIC, partition, buildRecordBatch(records), -1, 9);
            } catch {
              inFlight--;
              return;
            }
            inFlight--;
            if (res.errorCode !== 0) {
              errors++;
              continue;
            }
            ackedRequests++;
            records.forEach((r, i) => {
              const off = res.baseOffset + i;
              if (acked[partition]!.has(off)) throw new Error(`offset ${partition}/${off} acknowledged twice`);
              acked[partition]!.set(off, `${hashBytes(r.key ?? null)}/${hashBytes(r.value)}`);
            });
          }
        })(),
      );
    }
  }
  await Bun.sleep(LOAD_MS);
  const inFlightAtKill = inFlight;
  await b.kill9();
  stopped = true;
  await Promise.all(loops);
  for (const c of clients) c.close();
  return { acked: ackedRequests, inFlightAtKill, errors };
}

async function verify(b: BrokerHandle, label: string): Promise<void> {
  const c = await WireClient.connect(b.host, b.port);
  const problems: string[] = [];
  for (let p = 0; p < PARTITIONS; p++) {
    const got = await fetchAll(c, TOPIC, p, 0);
    got.records.forEach((r, i) => {
      if (r.offset !== i && problems.length < 20) problems.push(`p${p}: record #${i} has offset ${r.offset}`);
    });
    const maxAcked = Math.max(-1, ...acked[p]!.keys());
    if (got.highWatermark < maxAcked + 1) problems.push(`p${p}: high watermark ${got.highWatermark} < last ack ${maxAcked} + 1`);
    let lost = 0;
    for (const [off, h] of acked[p]!) {
      const r = got.records[off];
      if (!r || `${hashBytes(r.key)}/${hashBytes(r.value)}` !== h) lost++;
    }
    if (lost > 0) problems.push(`p${p}: ${lost} acknowledged records lost or changed`);
  }
  console.log(`${label}: acknowledged ${acked.map((m) => m.size).join(",")}; problems ${problems.length}`);
  expect(problems).toEqual([]);
  c.close();
}

test(`acks=all records survive SIGKILL under each segment I/O backend (${PHASES.join(" → ")} → auto)`, async () => {
  console.log(`crash-safety-backends seed ${SEED}; io_uring ${URING ? "available" : "refused: " + ioUringProbe()}`);
  const rng = new Prng(SEED);
  broker = await start(PHASES[0]!);
  const c = await WireClient.connect(broker.host, broker.port);
  const res = await createTopics(c, [{ name: TOPIC, partitions: PARTITIONS, configs: { "segment.bytes": "262144" } }]);
  expect(res[0]!.errorCode).toBe(0);
  c.close();
  for (let i = 0; i < PHASES.length; i++) {
    const stats = await loadThenKill(broker, i, rng);
    console.log(`phase ${i} (${PHASES[i]}): ${JSON.stringify(stats)}`);
    expect(stats.acked).toBeGreaterThan(20);
    expect(stats.errors).toBe(0);
    const next = PHASES[i + 1] ?? "auto";
    broker = await start(next);
    await verify(broker, `after kill under ${PHASES[i]}, restarted under ${next}`);
  }
}, 120_000);
