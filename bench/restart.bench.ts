/**
 * How long a Bunka restart takes with data stored: fills topics through the wire client, stops the
 * broker (kill -9, or SIGTERM with --clean), optionally drops the page cache (--drop-caches, as
 * root), starts it again on the same data and times spawn → ready, then prints the broker's own
 * startup line (what recovery walked, resumed, cut and fsynced).
 *
 *   bun bench/restart.bench.ts --fill 1000:2000:1,100:2000:4,1:3000:256,4:1024:256   # P:MiB:records per batch
 *   bun bench/restart.bench.ts [--clean] [--drop-caches]     # again on the data of the last --fill
 *
 * Data in .cache/bench-data/restart (kept between runs; --fill starts it afresh).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Produce } from "../src/client/codecs.ts";
import { buildRecordBatch } from "../src/client/record-batch-builder.ts";
import { WireClient } from "../src/client/wire-client.ts";
import { REPO_ROOT } from "../test/support/broker.ts";
import { createTopic } from "../test/support/tools.ts";
import { createBroker, type Broker } from "./vs-kafka/brokers.ts";

const argv = process.argv.slice(2);
const opt = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const fillSpec = opt("--fill");
const clean = argv.includes("--clean");
const dropCaches = argv.includes("--drop-caches");
const dataDir = join(REPO_ROOT, ".cache", "bench-data", "restart");

/** `mib` MiB of 1 KiB records in batches of `perBatch`, round-robin over `partitions`, 8 requests in flight. */
async function fill(b: Broker, topic: string, partitions: number, mib: number, perBatch: number): Promise<void> {
  const c = await WireClient.connect(b.host, b.port, "restart-bench");
  const value = new Uint8Array(1024).map((_, i) => (i * 7) & 0xff);
  const batch = buildRecordBatch(Array.from({ length: perBatch }, () => ({ value })));
  const inflight = new Set<Promise<void>>();
  for (let sent = 0; sent < Math.ceil((mib * 1024) / perBatch); sent++) {
    const p = c
      .send(Produce, 9, { transactionalId: null, acks: -1, timeoutMs: 30_000, topicData: [{ name: topic, partitionData: [{ index: sent % partitions, records: batch }] }] })
      .then((res) => {
        const code = res.responses[0]!.partitionResponses[0]!.errorCode;
        if (code !== 0) throw new Error(`produce error ${code}`);
      });
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
    if (inflight.size >= 8) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  c.close();
}

const b = await createBroker({ kind: "bunka", durability: "none", dataDir, heap: "" }, { fresh: fillSpec !== undefined });
await b.start();
if (fillSpec !== undefined) {
  for (const spec of fillSpec.split(",")) {
    const [partitions, mib, perBatch] = spec.split(":").map(Number) as [number, number, number];
    const topic = `t${partitions}x${perBatch}`;
    await createTopic(b.bootstrap, topic, partitions);
    const t0 = performance.now();
    await fill(b, topic, partitions, mib, perBatch);
    console.log(`${topic}: ${mib} MiB in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
}
if (clean) await b.stop();
else await b.kill9();
if (dropCaches) {
  Bun.spawnSync(["sync"]);
  writeFileSync("/proc/sys/vm/drop_caches", "3");
}
const ms = await b.start();
const opened = readFileSync(b.logFile, "utf8").split("\n").filter((l) => l.includes("opened ")).pop() ?? "(no startup line)";
console.log(`restart after ${clean ? "SIGTERM" : "kill -9"}${dropCaches ? ", page cache dropped" : ""}: ready in ${ms.toFixed(0)} ms`);
console.log(opened.replace(/^\[[^\]]+\] /, ""));
await b.stop();
