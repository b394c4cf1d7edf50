// Consumer-group figures, Bunka vs Apache Kafka 4.3.1 on the same machine:
//   - rebalance time for a member joining and a member leaving, with the classic protocol
//     (Java client, eager range assignor) and KIP-848 (Java client, group.protocol=consumer,
//     server-side uniform assignor), both brokers at their default group settings except
//     group.initial.rebalance.delay.ms=0;
//   - OffsetCommit round trip (v9, one partition, generation -1 "simple" group), p50/p99.
//
// Join time: from the joiner's subscribe() (its "subscribed" event) until every member holds its
// final partitions (the last "assigned" event of the round). Leave time: from the leaver's
// "closing" event (consumer.close() begins: LeaveGroup / epoch -1) until the remaining member
// was given the leaver's partitions. Each cycle uses the same stable member A and a new joiner.
//
// Usage: bun bench/groups.bench.ts [--cycles 3] [--commits 2000] [--only bunka|kafka]
import type { Subprocess } from "bun";
import { codec, WireClient } from "../src/client/wire-client.ts";
import { writeOffsetCommitRequest } from "../src/protocol/generated/offset-commit-request.ts";
import { readOffsetCommitResponse } from "../src/protocol/generated/offset-commit-response.ts";
import { startBunka, startRealKafka, type BrokerHandle } from "../test/support/broker.ts";
import { CLIENT_LOG4J, createTopic, javaClasspath } from "../test/support/tools.ts";

const OffsetCommit = codec(8, writeOffsetCommitRequest, readOffsetCommitResponse);
const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const CYCLES = Number(arg("cycles", "3"));
const COMMITS = Number(arg("commits", "2000"));
const ONLY = arg("only", "");
const PARTITIONS = 12;

interface Member {
  proc: Subprocess<"pipe", "pipe", "pipe">;
  lines: Record<string, any>[];
}

function startMember(b: BrokerHandle, topic: string, group: string, protocol: "classic" | "consumer"): Member {
  const args = [
    "java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", `-Dlog4j2.configurationFile=${CLIENT_LOG4J}`, "-cp", javaClasspath(), "GroupConsume",
    "--bootstrap", b.bootstrap, "--topic", topic, "--group", group, "--group-protocol", protocol, "--stop-on-stdin",
    "--idle-exit-ms", "600000", "--max-ms", "600000",
  ];
  if (protocol === "classic") args.push("--assignor", "range");
  const proc = Bun.spawn(args, { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  const m: Member = { proc, lines: [] };
  void (async () => {
    const decoder = new TextDecoder();
    let buf = "";
    for await (const chunk of proc.stdout) {
      buf += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line.startsWith("{")) m.lines.push(JSON.parse(line));
      }
    }
  })();
  return m;
}

/** Partitions a member holds now (eager: each "assigned" is the whole set; cooperative/848: incremental). */
function held(m: Member, incremental: boolean): Set<number> {
  let s = new Set<number>();
  for (const l of m.lines) {
    if (l.event === "assigned") {
      if (!incremental) s = new Set();
      for (const p of l.partitions) s.add(p);
    } else if (l.event === "revoked") for (const p of l.partitions) s.delete(p);
  }
  return s;
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

async function stop(m: Member): Promise<void> {
  m.proc.stdin.write("stop\n");
  await m.proc.stdin.flush();
  m.proc.stdin.end();
  const t = setTimeout(() => m.proc.kill("SIGKILL"), 30_000);
  await m.proc.exited;
  clearTimeout(t);
}

async function rebalances(b: BrokerHandle, protocol: "classic" | "consumer"): Promise<{ join: number[]; leave: number[] }> {
  const topic = `bench-groups-${protocol}-${Date.now()}`;
  const group = `bg-${protocol}-${Date.now()}`;
  await createTopic(b.bootstrap, topic, PARTITIONS);
  const incremental = protocol === "consumer";
  const a = startMember(b, topic, group, protocol);
  const join: number[] = [];
  const leave: number[] = [];
  try {
    await until(() => held(a, incremental).size === PARTITIONS, 90_000, "A to hold every partition");
    for (let i = 0; i < CYCLES; i++) {
      const j = startMember(b, topic, group, protocol);
      await until(() => held(a, incremental).size + held(j, incremental).size === PARTITIONS && held(j, incremental).size > 0 && held(a, incremental).size > 0, 90_000, "the joiner to get its share");
      await Bun.sleep(300); // let any trailing assignment event arrive
      const subscribed = j.lines.find((l) => l.event === "subscribed")!.ts as number;
      const lastAssigned = Math.max(...[...a.lines, ...j.lines].filter((l) => l.event === "assigned" && l.ts >= subscribed).map((l) => l.ts as number));
      join.push(lastAssigned - subscribed);
      const before = a.lines.length;
      await stop(j);
      await until(() => held(a, incremental).size === PARTITIONS, 90_000, "A to take the leaver's partitions back");
      const closing = j.lines.find((l) => l.event === "closing")!.ts as number;
      const back = a.lines.slice(before).filter((l) => l.event === "assigned" && l.partitions.length > 0).map((l) => l.ts as number);
      leave.push(Math.max(...back) - closing);
      console.log(`  ${b.kind} ${protocol} cycle ${i + 1}: join ${join.at(-1)} ms, leave ${leave.at(-1)} ms`);
    }
  } finally {
    await stop(a);
  }
  return { join, leave };
}

async function commitLatency(b: BrokerHandle): Promise<{ p50: number; p99: number; n: number }> {
  const topic = `bench-commit-${Date.now()}`;
  await createTopic(b.bootstrap, topic, 1);
  const c = await WireClient.connect(b.host, b.port, "bench-groups");
  const samples: number[] = [];
  try {
    for (let i = 0; i < COMMITS + 100; i++) {
      const t0 = performance.now();
      const r = await c.send(OffsetCommit, 9, {
        groupId: "bench-commit", generationIdOrMemberEpoch: -1, memberId: "", groupInstanceId: null, retentionTimeMs: -1,
        topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: i, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: null }] }],
      });
      const dt = performance.now() - t0;
      if (r.topics[0]!.partitions[0]!.errorCode !== 0) throw new Error(`commit failed: ${r.topics[0]!.partitions[0]!.errorCode}`);
      if (i >= 100) samples.push(dt); // the first 100 warm up
    }
  } finally {
    c.close();
  }
  samples.sort((x, y) => x - y);
  const q = (f: number) => samples[Math.min(samples.length - 1, Math.floor(f * samples.length))]!;
  return { p50: q(0.5), p99: q(0.99), n: samples.length };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const rows: string[] = [];
for (const kind of ["bunka", "kafka"] as const) {
  if (ONLY && ONLY !== kind) continue;
  console.log(`== ${kind}`);
  const b = kind === "bunka" ? await startBunka({ overrides: { "group.initial.rebalance.delay.ms": "0" }, name: "bench-groups" }) : await startRealKafka({ extraProps: { "group.initial.rebalance.delay.ms": "0" } });
  try {
    for (const protocol of ["classic", "consumer"] as const) {
      const r = await rebalances(b, protocol);
      rows.push(`| ${kind} | ${protocol === "classic" ? "classic (range, eager)" : "KIP-848 (uniform)"} | ${median(r.join)} (${r.join.join(", ")}) | ${median(r.leave)} (${r.leave.join(", ")}) |`);
    }
    const c = await commitLatency(b);
    rows.push(`| ${kind} | OffsetCommit v9 round trip, n=${c.n} | p50 ${c.p50.toFixed(2)} ms | p99 ${c.p99.toFixed(2)} ms |`);
  } finally {
    await b.stop();
  }
}
console.log("\n| broker | what | join ms: median (runs) | leave ms: median (runs) |\n| --- | --- | --- | --- |");
for (const r of rows) console.log(r);
