// The Java consumer with the cooperative-sticky assignor (classic protocol): three members join
// one by one, one leaves cleanly; every record is consumed, rebalances are incremental (a member
// gives up only the partitions that move), and the broker selected the "cooperative-sticky"
// protocol (DescribeGroups).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { codec, WireClient } from "../../src/client/wire-client.ts";
import { writeDescribeGroupsRequest } from "../../src/protocol/generated/describe-groups-request.ts";
import { readDescribeGroupsResponse } from "../../src/protocol/generated/describe-groups-response.ts";
import { startTestBroker, type BrokerHandle } from "../support/broker.ts";
import { createTopic, produceKeyedRecords } from "../support/tools.ts";
import { groupCoverage } from "../support/group-coverage.ts";
import { startTrickle } from "../support/trickle.ts";
import { expectCleanExits, javaGroupMember, stopMember, until, type GroupMember as Member } from "../support/group-members.ts";

const DescribeGroups = codec(15, writeDescribeGroupsRequest, readDescribeGroupsResponse);
const TOPIC = `groups-coop-${Date.now()}`;
const GROUP = `gc-${Date.now()}`;
const PARTITIONS = 6;
const RECORDS = 20_000;
/** Offsets per partition the coverage check can count (initial records plus the trickle). */
const COVERAGE_SLOTS = 200_000;

let broker: BrokerHandle;

beforeAll(async () => {
  broker = await startTestBroker({
    overrides: { "group.initial.rebalance.delay.ms": "0" },
    name: "groups-cooperative",
  });
  await createTopic(broker.bootstrap, TOPIC, PARTITIONS);
  await produceKeyedRecords(broker.bootstrap, TOPIC, PARTITIONS, RECORDS);
}, 90_000);

afterAll(async () => {
  await broker?.stop();
}, 30_000);


function startMember(name: string): Member {
  return javaGroupMember(
    name,
    [
      "--bootstrap", broker.bootstrap, "--topic", TOPIC, "--group", GROUP, "--assignor", "cooperative-sticky", "--stop-on-stdin",
      "--idle-exit-ms", "120000", "--max-ms", "120000", "--poll-sleep-ms", "100", "--max-poll-records", "80", "--session-timeout-ms", "6000",
    ],
    "pipe",
  );
}


const holds = (m: Member) => m.lines.some((l) => l.event === "assigned" && l.partitions.length > 0);

test("cooperative-sticky: three members join one by one, one leaves; incremental rebalances, every record consumed", async () => {
  const client = await WireClient.connect(broker.host, broker.port, "coop-test");
  // New records keep arriving on every partition, so a member that joins late has something to
  // consume whatever the others drained meanwhile. Members run until the test stops them.
  const trickle = await startTrickle(broker.host, broker.port, TOPIC, PARTITIONS);
  const members: Member[] = [];
  let leftAt = 0;
  let expected = RECORDS;
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
    const [a, b, c] = members as [Member, Member, Member];
    leftAt = Date.now();
    await stopMember(b);
    await until(() => [a, c].some((m) => m.lines.some((l) => l.event === "assigned" && l.partitions.length > 0 && l.ts > leftAt)), 30_000, "b's partitions to move to a or c");
    expected += await trickle.stop();
    await until(() => groupCoverage(members, PARTITIONS, COVERAGE_SLOTS).total === expected, 60_000, `all ${expected} records to be consumed`, 500);
    await Promise.all([stopMember(a), stopMember(c)]);
    await expectCleanExits(members);
    expect(b.lines.some((l) => l.event === "closed")).toBe(true);
  } finally {
    await trickle.stop();
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

  const { total, duplicates, unexplained } = groupCoverage(members, PARTITIONS, COVERAGE_SLOTS);
  expect(total).toBe(expected);
  expect(unexplained).toBe(0);
  console.log(`groups-cooperative: ${expected} records, ${duplicates} duplicates, consumed ${members.map((m) => `${m.name}=${m.consumed}`).join(" ")}`);
}, 150_000);
