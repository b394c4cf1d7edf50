// The server-side assignors of KIP-848 groups: balance, stickiness, heterogeneous subscriptions.
import { describe, expect, test } from "bun:test";
import { rangeAssignor } from "../../../src/groups/assignors/range.ts";
import type { AssignorMember, AssignorTopic } from "../../../src/groups/assignors/types.ts";
import { uniformAssignor } from "../../../src/groups/assignors/uniform.ts";
import { countPartitions, eachPartition, type TopicPartitions } from "../../../src/groups/topic-partitions.ts";

const topics = new Map<string, AssignorTopic>([
  ["a".repeat(32), { id: "a".repeat(32), name: "ta", partitions: 12 }],
  ["b".repeat(32), { id: "b".repeat(32), name: "tb", partitions: 3 }],
]);
const TA = "a".repeat(32);
const TB = "b".repeat(32);

const member = (memberId: string, subscribed: string[], previous: TopicPartitions = new Map()): AssignorMember => ({ memberId, instanceId: null, rackId: null, subscribedTopicIds: new Set(subscribed), previous });

function checkComplete(result: Map<string, TopicPartitions>, expected: number): void {
  const seen = new Set<string>();
  for (const tp of result.values()) for (const [t, p] of eachPartition(tp)) {
    const k = `${t}:${p}`;
    expect(seen.has(k)).toBe(false);
    seen.add(k);
  }
  expect(seen.size).toBe(expected);
}

describe("uniform", () => {
  test("balanced, and sticky when a member joins or leaves", () => {
    const three = uniformAssignor.assign([member("m1", [TA]), member("m2", [TA]), member("m3", [TA])], topics);
    checkComplete(three, 12);
    expect([...three.values()].map(countPartitions)).toEqual([4, 4, 4]);
    const four = uniformAssignor.assign([member("m1", [TA], three.get("m1")), member("m2", [TA], three.get("m2")), member("m3", [TA], three.get("m3")), member("m4", [TA])], topics);
    checkComplete(four, 12);
    expect([...four.values()].map(countPartitions)).toEqual([3, 3, 3, 3]);
    // Only the three partitions m4 receives moved.
    for (const id of ["m1", "m2", "m3"]) for (const [t, p] of eachPartition(four.get(id)!)) expect(three.get(id)!.get(t)!.has(p)).toBe(true);
    const two = uniformAssignor.assign([member("m1", [TA], four.get("m1")), member("m3", [TA], four.get("m3"))], topics);
    expect([...two.values()].map(countPartitions)).toEqual([6, 6]);
    for (const id of ["m1", "m3"]) for (const [t, p] of eachPartition(four.get(id)!)) expect(two.get(id)!.get(t)!.has(p)).toBe(true);
  });

  test("heterogeneous subscriptions: partitions only to subscribers, loads as even as they allow", () => {
    const r = uniformAssignor.assign([member("m1", [TA, TB]), member("m2", [TA]), member("m3", [TB])], topics);
    checkComplete(r, 15);
    expect(r.get("m2")!.has(TB)).toBe(false);
    expect(r.get("m3")!.has(TA)).toBe(false);
    const loads = [...r.values()].map(countPartitions);
    expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(3);
  });
});

describe("range", () => {
  test("contiguous ranges per topic, co-partitioned, extra partitions to the first members", () => {
    const r = rangeAssignor.assign([member("m2", [TA, TB]), member("m1", [TA, TB])], topics);
    checkComplete(r, 15);
    expect([...r.get("m1")!.get(TA)!]).toEqual([0, 1, 2, 3, 4, 5]);
    expect([...r.get("m2")!.get(TA)!]).toEqual([6, 7, 8, 9, 10, 11]);
    expect([...r.get("m1")!.get(TB)!]).toEqual([0, 1]);
    expect([...r.get("m2")!.get(TB)!]).toEqual([2]);
  });
});
