// franz-go consumer-group members (kgo.ConsumerGroup, default cooperative-sticky balancer,
// autocommit) sharing a topic: two members split it, one leaves, the other takes over its
// partitions, and every record is consumed (autocommit may repeat a few after the hand-over).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { startTestBroker, type BrokerHandle } from "../support/broker.ts";
import { CACHE_DIR, lastJson, run } from "../support/tools.ts";
import { expectCleanExits, spawnGroupMember, stopMember, until, type GroupMember as Member } from "../support/group-members.ts";

const FRANZ_GROUP_BIN = join(CACHE_DIR, "bin", "franz-group");
const TOPIC = `groups-franz-${Date.now()}`;
const GROUP = `gf-${Date.now()}`;
const PARTITIONS = 6;
const RECORDS = 20_000;

let broker: BrokerHandle;

beforeAll(async () => {
  broker = await startTestBroker({
    overrides: { "group.initial.rebalance.delay.ms": "0" },
    name: "groups-franz",
  });
  const r = await run([FRANZ_GROUP_BIN, "--bootstrap", broker.bootstrap, "--topic", TOPIC, "--produce", String(RECORDS), "--partitions", String(PARTITIONS)], { timeoutMs: 60_000 });
  expect(lastJson(r.stdout)).toEqual({ ok: true, produced: RECORDS });
}, 90_000);

afterAll(async () => {
  await broker?.stop();
}, 30_000);


function startMember(name: string): Member {
  return spawnGroupMember(
    name,
    [FRANZ_GROUP_BIN, "--bootstrap", broker.bootstrap, "--topic", TOPIC, "--group", GROUP, "--stop-on-stdin", "--idle-exit", "5s", "--max", "90s", "--poll-sleep", "100ms", "--max-poll", "100"],
    "pipe",
  );
}


test("two franz-go members share a topic; one leaves, the other takes over; every record consumed", async () => {
  const a = startMember("a");
  const b = startMember("b");
  const members = [a, b];
  const owned = (m: Member) => {
    const held = new Set<number>();
    for (const l of m.lines) {
      if (l.event === "assigned") for (const p of l.partitions) held.add(p);
      if (l.event === "revoked" || l.event === "lost") for (const p of l.partitions) held.delete(p);
    }
    return held;
  };
  try {
    await until(() => owned(a).size > 0 && owned(b).size > 0 && a.consumed > 0 && b.consumed > 0, 45_000, "both members to own partitions and consume");
    expect(owned(a).size + owned(b).size).toBe(PARTITIONS);
    const aHeld = [...owned(a)];
    const leftAt = Date.now();
    await stopMember(a);
    await expectCleanExits(members);
    // b was given a's partitions after a left.
    const later = b.lines.filter((l) => l.event === "assigned" && l.ts >= leftAt).flatMap((l) => l.partitions as number[]);
    for (const p of aHeld) expect(later).toContain(p);
  } finally {
    for (const m of members) m.proc.kill("SIGKILL");
  }

  // Coverage: per partition, offsets 0..end-1 all consumed, and the ends add up to what was produced.
  const seen = new Map<number, Set<number>>();
  let duplicates = 0;
  for (const m of members) {
    for (const l of m.lines) {
      if (l.event !== "records") continue;
      for (const [p, first, last, count] of l.ranges as number[][]) {
        expect(count).toBe(last! - first! + 1);
        let s = seen.get(p!);
        if (!s) seen.set(p!, (s = new Set()));
        for (let o = first!; o <= last!; o++) {
          if (s.has(o)) duplicates++;
          s.add(o);
        }
      }
    }
  }
  let total = 0;
  for (const [p, s] of seen) {
    const end = Math.max(...s) + 1;
    expect({ p, missing: end - s.size }).toEqual({ p, missing: 0 });
    total += end;
  }
  expect(total).toBe(RECORDS);
  console.log(`groups-franz: ${RECORDS} records, ${duplicates} duplicates, consumed a=${a.consumed} b=${b.consumed}`);
}, 120_000);
