// The Java consumer with the cooperative-sticky assignor (classic protocol): three members join
// one by one, one leaves cleanly; every record is consumed, rebalances are incremental (a member
// gives up only the partitions that move), and the broker selected the "cooperative-sticky"
// protocol (DescribeGroups).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { codec, WireClient } from "../../src/client/wire-client.ts";
import { writeDescribeGroupsRequest } from "../../src/protocol/generated/describe-groups-request.ts";
import { readDescribeGroupsResponse } from "../../src/protocol/generated/describe-groups-response.ts";
import { startTestBroker, type BrokerHandle } from "../support/broker.ts";
import { createTopic, kcat } from "../support/tools.ts";
import { javaGroupMember, stopMember, until, type GroupMember as Member } from "../support/group-members.ts";

const DescribeGroups = codec(15, writeDescribeGroupsRequest, readDescribeGroupsResponse);
const TOPIC = `groups-coop-${Date.now()}`;
const GROUP = `gc-${Date.now()}`;
const PARTITIONS = 6;
const RECORDS = 20_000;

let broker: BrokerHandle;

beforeAll(async () => {
  broker = await startTestBroker({
    overrides: { "group.initial.rebalance.delay.ms": "0" },
    name: "groups-cooperative",
  });
  await createTopic(broker.bootstrap, TOPIC, PARTITIONS);
  // Keyed, so the records spread evenly over the partitions.
  const lines = Array.from({ length: RECORDS }, (_, i) => `k${i}:v${i}`).join("\n") + "\n";
  await kcat(broker.bootstrap, ["-P", "-t", TOPIC, "-K", ":", "-X", "linger.ms=20"], { stdin: lines, timeoutMs: 60_000 });
}, 90_000);

afterAll(async () => {
  await broker?.stop();
}, 30_000);


function startMember(name: string): Member {
  return javaGroupMember(
    name,
    [
      "--bootstrap", broker.bootstrap, "--topic", TOPIC, "--group", GROUP, "--assignor", "cooperative-sticky", "--stop-on-stdin",
      "--idle-exit-ms", "5000", "--max-ms", "90000", "--poll-sleep-ms", "100", "--max-poll-records", "80", "--session-timeout-ms", "6000",
    ],
    "pipe",
  );
}


const holds = (m: Member) => m.lines.some((l) => l.event === "assigned" && l.partitions.length > 0);

test("cooperative-sticky: three members join one by one, one leaves; incremental rebalances, every record consumed", async () => {
  const client = await WireClient.connect(broker.host, broker.port, "coop-test");
  const members: Member[] = [];
  let leftAt = 0;
  try {
    for (const name of ["a", "b", "c"]) {
      const m = startMember(name);
      members.push(m);
      await until(() => holds(m) && m.consumed > 0, 45_000, `${name} to get partitions and consume`);
    }
    let described: Awaited<ReturnType<typeof client.send<any, any>>> | null = null;
    await until(async () => {
      const g = (await client.send(DescribeGroups, 5, { groups: [GROUP], includeAuthorizedOperations: false })).groups[0]!;
      described = g;
      return g.groupState === "Stable" && g.members.length === 3;
    }, 30_000, "a Stable group of three");
    expect(described!.protocolType).toBe("consumer");
    expect(described!.protocolData).toBe("cooperative-sticky");
    // b leaves cleanly (LeaveGroup); a and c take its partitions.
    const b = members[1]!;
    leftAt = Date.now();
    await stopMember(b);
    const codes = await Promise.all(members.map((m) => m.exited));
    const stderrs = await Promise.all(members.map((m) => m.stderr));
    await Promise.all(members.map((m) => m.drained));
    for (let i = 0; i < codes.length; i++) expect({ code: codes[i], stderr: codes[i] === 0 ? "" : stderrs[i] }).toEqual({ code: 0, stderr: "" });
    expect(b.lines.some((l) => l.event === "closed")).toBe(true);
  } finally {
    client.close();
    for (const m of members) m.proc.kill("SIGKILL");
  }

  // Incremental: when b and c joined, a revoked only some of its partitions and kept the rest.
  const a = members[0]!;
  let held = new Set<number>();
  let partialRevokes = 0;
  for (const l of a.lines) {
    if (l.event === "assigned") for (const p of l.partitions) held.add(p);
    if (l.event === "revoked") {
      if (l.partitions.length > 0 && l.partitions.length < held.size) partialRevokes++;
      held = new Set([...held].filter((p) => !l.partitions.includes(p)));
    }
  }
  expect(partialRevokes).toBeGreaterThanOrEqual(2);
  // After b left, a and c were given its partitions.
  const c = members[2]!;
  expect(a.lines.concat(c.lines).some((l) => l.event === "assigned" && l.partitions.length > 0 && l.ts > leftAt)).toBe(true);

  const { total, duplicates, unexplained } = coverage(members);
  expect(total).toBe(RECORDS);
  expect(unexplained).toBe(0);
  console.log(`groups-cooperative: ${RECORDS} records, ${duplicates} duplicates, consumed ${members.map((m) => `${m.name}=${m.consumed}`).join(" ")}`);
}, 150_000);

/** Per partition and offset: every offset consumed; duplicates only where a consumer had no covering commit. */
function coverage(all: Member[]): { total: number; duplicates: number; unexplained: number } {
  const seen = new Map<number, Uint16Array>();
  const uncommitted = new Map<number, Uint16Array>();
  const arr = (m: Map<number, Uint16Array>, p: number) => {
    let a = m.get(p);
    if (!a) m.set(p, (a = new Uint16Array(RECORDS)));
    return a;
  };
  for (const m of all) {
    const pending = new Map<number, number[][]>();
    for (const line of m.lines) {
      if (line.event === "records") {
        for (const [p, first, last] of line.ranges as number[][]) {
          const s = arr(seen, p!);
          for (let o = first!; o <= last!; o++) s[o]!++;
          const list = pending.get(p!) ?? [];
          list.push([first!, last!]);
          pending.set(p!, list);
        }
      } else if (line.event === "commit") {
        for (const [p, next] of Object.entries(line.offsets as Record<string, number>)) {
          pending.set(Number(p), (pending.get(Number(p)) ?? []).filter(([, last]) => last! >= next));
        }
      }
    }
    for (const [p, ranges] of pending) {
      const u = arr(uncommitted, p);
      for (const [first, last] of ranges) for (let o = first!; o <= last!; o++) u[o]!++;
    }
  }
  let total = 0;
  let duplicates = 0;
  let unexplained = 0;
  for (let p = 0; p < PARTITIONS; p++) {
    const s = seen.get(p);
    if (s === undefined) continue; // a partition that got no records
    let end = RECORDS;
    while (end > 0 && s![end - 1] === 0) end--;
    for (let o = 0; o < end; o++) {
      if (s![o] === 0) throw new Error(`partition ${p} offset ${o} was never consumed`);
      if (s![o]! > 1) {
        duplicates += s![o]! - 1;
        if (s![o]! - 1 > (uncommitted.get(p)?.[o] ?? 0)) unexplained++;
      }
    }
    total += end;
  }
  return { total, duplicates, unexplained };
}
