// The Java consumer (classic group protocol) against the broker's group coordinator: three
// members of one group consume 100,000 records of a 12-partition topic, one is killed (SIGKILL,
// no LeaveGroup) mid-stream and a fourth joins. Every record must be consumed, and a record may be
// consumed twice only if one of its consumers never got a commit covering it (the uncommitted
// window of the killed member, or a commit lost to a rebalance).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestBroker, type BrokerHandle } from "../support/broker.ts";
import { createTopic, produceKeyedRecords } from "../support/tools.ts";
import { groupCoverage } from "../support/group-coverage.ts";
import { awaitAllConsuming, expectCleanExits, javaGroupMember, killBusiest, type GroupMember as Member } from "../support/group-members.ts";

const TOPIC = `groups-java-${Date.now()}`;
const GROUP = `gj-${Date.now()}`;
const PARTITIONS = 12;
const RECORDS = 100_000;

let broker: BrokerHandle;

beforeAll(async () => {
  broker = await startTestBroker({ overrides: { "group.initial.rebalance.delay.ms": "0" }, name: "groups-java" });
  await createTopic(broker.bootstrap, TOPIC, PARTITIONS);
  await produceKeyedRecords(broker.bootstrap, TOPIC, PARTITIONS, RECORDS);
}, 90_000);

afterAll(async () => {
  await broker?.stop();
}, 30_000);


function startMember(name: string, extra: string[] = []): Member {
  return javaGroupMember(name, [
    "--bootstrap", broker.bootstrap, "--topic", TOPIC, "--group", GROUP,
    "--idle-exit-ms", "9000", "--max-ms", "100000", "--poll-sleep-ms", "100", "--max-poll-records", "200", ...extra,
  ]);
}


test("3 members, one killed mid-stream, one joins: every record consumed, duplicates only from uncommitted windows", async () => {
  const members = ["a", "b", "c"].map((n) => startMember(n));
  await awaitAllConsuming(members, 25_000, 60_000, broker.logFile);
  // The busiest member dies without leaving: its partitions move only after its session times out.
  const victim = await killBusiest(members);
  const joiner = startMember("d");
  const all = [...members, joiner];
  await expectCleanExits(all.filter((m) => m !== victim));
  await victim.drained;

  const { total, duplicates, unexplained } = groupCoverage(all, PARTITIONS, RECORDS);
  expect(total).toBe(RECORDS);
  expect(unexplained).toBe(0);
  console.log(`groups-java: ${RECORDS} records, ${duplicates} duplicates (all in uncommitted windows), victim consumed ${victim.consumed}`);
}, 150_000);
