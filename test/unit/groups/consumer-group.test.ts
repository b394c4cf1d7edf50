// KIP-848 consumer groups in-process, through the real handlers: joining, target assignment and
// reconciliation (revoke before assign), epochs and fencing, static members, leaving, session and
// rebalance timeouts, new partitions, offsets by member epoch, admin APIs, and a restart.
import { afterEach, describe, expect, test } from "bun:test";
import * as C from "../../../src/client/codecs.ts";
import { codec } from "../../../src/client/wire-client.ts";
import { writeConsumerGroupHeartbeatRequest, type ConsumerGroupHeartbeatRequest } from "../../../src/protocol/generated/consumer-group-heartbeat-request.ts";
import { readConsumerGroupHeartbeatResponse, type ConsumerGroupHeartbeatResponse } from "../../../src/protocol/generated/consumer-group-heartbeat-response.ts";
import { writeConsumerGroupDescribeRequest } from "../../../src/protocol/generated/consumer-group-describe-request.ts";
import { readConsumerGroupDescribeResponse } from "../../../src/protocol/generated/consumer-group-describe-response.ts";
import { writeOffsetCommitRequest } from "../../../src/protocol/generated/offset-commit-request.ts";
import { readOffsetCommitResponse } from "../../../src/protocol/generated/offset-commit-response.ts";
import { writeOffsetFetchRequest } from "../../../src/protocol/generated/offset-fetch-request.ts";
import { readOffsetFetchResponse } from "../../../src/protocol/generated/offset-fetch-response.ts";
import { writeListGroupsRequest } from "../../../src/protocol/generated/list-groups-request.ts";
import { readListGroupsResponse } from "../../../src/protocol/generated/list-groups-response.ts";
import { writeDescribeGroupsRequest } from "../../../src/protocol/generated/describe-groups-request.ts";
import { readDescribeGroupsResponse } from "../../../src/protocol/generated/describe-groups-response.ts";
import { writeDeleteGroupsRequest } from "../../../src/protocol/generated/delete-groups-request.ts";
import { readDeleteGroupsResponse } from "../../../src/protocol/generated/delete-groups-response.ts";
import { writeJoinGroupRequest } from "../../../src/protocol/generated/join-group-request.ts";
import { readJoinGroupResponse } from "../../../src/protocol/generated/join-group-response.ts";
import { writeCreatePartitionsRequest } from "../../../src/protocol/generated/create-partitions-request.ts";
import { readCreatePartitionsResponse } from "../../../src/protocol/generated/create-partitions-response.ts";
import { GroupError as E } from "../../../src/groups/errors.ts";
import { ConsumerGroupError as CE } from "../../../src/groups/consumer-errors.ts";
import { openInProcessBroker, type InProcessBroker } from "../../support/in-process.ts";

const Heartbeat = codec(68, writeConsumerGroupHeartbeatRequest, readConsumerGroupHeartbeatResponse);
const Describe = codec(69, writeConsumerGroupDescribeRequest, readConsumerGroupDescribeResponse);
const OffsetCommit = codec(8, writeOffsetCommitRequest, readOffsetCommitResponse);
const OffsetFetch = codec(9, writeOffsetFetchRequest, readOffsetFetchResponse);
const ListGroups = codec(16, writeListGroupsRequest, readListGroupsResponse);
const DescribeGroups = codec(15, writeDescribeGroupsRequest, readDescribeGroupsResponse);
const DeleteGroups = codec(42, writeDeleteGroupsRequest, readDeleteGroupsResponse);
const JoinGroup = codec(11, writeJoinGroupRequest, readJoinGroupResponse);
const CreatePartitions = codec(37, writeCreatePartitionsRequest, readCreatePartitionsResponse);

const open: InProcessBroker[] = [];
afterEach(async () => {
  for (const b of open.splice(0)) await b.close().catch(() => {});
});

let topicId = "";

async function broker(overrides: Record<string, string> = {}, partitions = 4): Promise<InProcessBroker> {
  const b = await openInProcessBroker({ "group.consumer.heartbeat.interval.ms": "1000", "group.consumer.session.timeout.ms": "5000", ...overrides });
  open.push(b);
  const r = await b.call(C.CreateTopics, 7, { topics: [{ name: "t", numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 1000, validateOnly: false });
  topicId = r.topics[0]!.topicId!;
  return b;
}

type Owned = number[] | null;

function hb(b: InProcessBroker, p: Partial<ConsumerGroupHeartbeatRequest> & { memberId: string; memberEpoch: number }, owned: Owned = null, version = 1): Promise<ConsumerGroupHeartbeatResponse> {
  return b.call(Heartbeat, version, {
    groupId: "g", instanceId: null, rackId: null, rebalanceTimeoutMs: -1, subscribedTopicNames: null, subscribedTopicRegex: null, serverAssignor: null,
    topicPartitions: owned === null ? null : [{ topicId, partitions: owned }],
    ...p,
  });
}

const joinReq = (memberId: string, extra: Partial<ConsumerGroupHeartbeatRequest> = {}): Partial<ConsumerGroupHeartbeatRequest> & { memberId: string; memberEpoch: number } => ({
  memberId, memberEpoch: 0, rebalanceTimeoutMs: 10_000, subscribedTopicNames: ["t"], topicPartitions: [], ...extra,
});

const parts = (r: ConsumerGroupHeartbeatResponse) => (r.assignment === null ? null : r.assignment.topicPartitions.flatMap((t) => t.partitions).sort((a, b) => a - b));

async function describe1(b: InProcessBroker, group = "g") {
  return (await b.call(Describe, 0, { groupIds: [group], includeAuthorizedOperations: false })).groups[0]!;
}

describe("ConsumerGroupHeartbeat", () => {
  test("request validation answers Kafka's errors", async () => {
    const b = await broker();
    expect(await hb(b, { memberId: "", memberEpoch: 0 }).then((r) => [r.errorCode, r.errorMessage])).toEqual([E.INVALID_REQUEST, "MemberId can't be empty."]);
    expect((await hb(b, { ...joinReq("m"), groupId: "" })).errorMessage).toBe("GroupId can't be empty.");
    expect((await hb(b, { ...joinReq("m"), rebalanceTimeoutMs: -1 })).errorMessage).toBe("RebalanceTimeoutMs must be provided in first request.");
    expect((await hb(b, { ...joinReq("m"), topicPartitions: null })).errorMessage).toBe("TopicPartitions must be empty when (re-)joining.");
    expect((await hb(b, { ...joinReq("m"), subscribedTopicNames: null })).errorMessage).toBe("Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.");
    expect((await hb(b, { memberId: "m", memberEpoch: -3 })).errorMessage).toBe("MemberEpoch is invalid.");
    expect((await hb(b, { memberId: "m", memberEpoch: -2 })).errorMessage).toBe("InstanceId can't be null.");
    expect((await hb(b, { ...joinReq("m"), serverAssignor: "sticky" })).errorCode).toBe(CE.UNSUPPORTED_ASSIGNOR);
    expect((await hb(b, { ...joinReq("m"), subscribedTopicNames: null, subscribedTopicRegex: "t(" })).errorCode).toBe(CE.INVALID_REGULAR_EXPRESSION);
    expect((await hb(b, { memberId: "m", memberEpoch: 3 })).errorCode).toBe(E.GROUP_ID_NOT_FOUND);
    // v0: the coordinator names the member.
    const v0 = await hb(b, joinReq(""), null, 0);
    expect(v0.errorCode).toBe(0);
    expect(v0.memberId!.length).toBeGreaterThan(10);
  });

  test("join, second member, revoke before assign, leave", async () => {
    const b = await broker();
    const a1 = await hb(b, joinReq("a"));
    expect(a1).toMatchObject({ errorCode: 0, memberId: "a", memberEpoch: 1, heartbeatIntervalMs: 1000 });
    expect(parts(a1)).toEqual([0, 1, 2, 3]);
    // b joins: epoch 2, target splits 2/2, but a still holds b's partitions.
    const b1 = await hb(b, joinReq("b"));
    expect(b1.memberEpoch).toBe(2);
    expect(parts(b1)).toEqual([]);
    expect((await describe1(b)).groupState).toBe("Reconciling");
    // a is told to give up two partitions, at its old epoch.
    const a2 = await hb(b, { memberId: "a", memberEpoch: 1 }, [0, 1, 2, 3]);
    expect(a2.memberEpoch).toBe(1);
    const kept = parts(a2)!;
    expect(kept.length).toBe(2);
    // Not acknowledged yet (owned unchanged): nothing new.
    expect(parts(await hb(b, { memberId: "b", memberEpoch: 2 }))).toBeNull();
    expect((await hb(b, { memberId: "a", memberEpoch: 1 })).memberEpoch).toBe(1);
    // a acknowledges: moves to epoch 2; then b gets the rest.
    const a3 = await hb(b, { memberId: "a", memberEpoch: 1 }, kept);
    expect(a3.memberEpoch).toBe(2);
    const b2 = await hb(b, { memberId: "b", memberEpoch: 2 }, []);
    expect(parts(b2)).toEqual([0, 1, 2, 3].filter((p) => !kept.includes(p)));
    const d = await describe1(b);
    expect(d).toMatchObject({ groupState: "Stable", groupEpoch: 2, assignmentEpoch: 2, assignorName: "uniform" });
    expect(d.members.map((m) => m.assignment.topicPartitions[0]!.topicName)).toEqual(["t", "t"]);
    // b leaves: a gets everything at epoch 3.
    expect(await hb(b, { memberId: "b", memberEpoch: -1 })).toMatchObject({ errorCode: 0, memberEpoch: -1 });
    const a4 = await hb(b, { memberId: "a", memberEpoch: 2 }, kept);
    expect(a4.memberEpoch).toBe(3);
    expect(parts(a4)).toEqual([0, 1, 2, 3]);
  });

  test("fencing: epoch ahead or stale, unknown member; a lost response is tolerated", async () => {
    const b = await broker();
    await hb(b, joinReq("a"));
    expect((await hb(b, { memberId: "a", memberEpoch: 5 })).errorCode).toBe(CE.FENCED_MEMBER_EPOCH);
    expect((await hb(b, { memberId: "x", memberEpoch: 1 })).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    await hb(b, joinReq("b"));
    const a2 = await hb(b, { memberId: "a", memberEpoch: 1 }, [0, 1, 2, 3]);
    const a3 = await hb(b, { memberId: "a", memberEpoch: 1 }, parts(a2)!);
    expect(a3.memberEpoch).toBe(2);
    // The epoch-2 response was lost: epoch 1 with a subset of the assignment is accepted...
    expect((await hb(b, { memberId: "a", memberEpoch: 1 }, parts(a2)!)).errorCode).toBe(0);
    // ...but not without owned partitions, nor an older epoch.
    expect((await hb(b, { memberId: "a", memberEpoch: 1 })).errorCode).toBe(CE.FENCED_MEMBER_EPOCH);
    expect((await hb(b, { memberId: "a", memberEpoch: 0, rebalanceTimeoutMs: 10_000, subscribedTopicNames: ["t"], topicPartitions: [] })).errorCode).toBe(0); // rejoin
  });

  test("static members: unreleased instance id, temporary leave (-2) keeps partitions for the replacement", async () => {
    const b = await broker();
    const a1 = await hb(b, joinReq("a1", { instanceId: "i-a" }));
    expect(parts(a1)).toEqual([0, 1, 2, 3]);
    expect((await hb(b, joinReq("a2", { instanceId: "i-a" }))).errorCode).toBe(CE.UNRELEASED_INSTANCE_ID);
    expect((await hb(b, { memberId: "zz", memberEpoch: 1, instanceId: "i-a" })).errorCode).toBe(E.FENCED_INSTANCE_ID);
    expect(await hb(b, { memberId: "a1", memberEpoch: -2, instanceId: "i-a" })).toMatchObject({ errorCode: 0, memberEpoch: -2 });
    // A dynamic member meanwhile gets nothing: the static member's partitions are kept.
    const d1 = await hb(b, joinReq("d"));
    expect(parts(d1)).toEqual([]);
    const a2 = await hb(b, joinReq("a2", { instanceId: "i-a" }));
    expect(a2.errorCode).toBe(0);
    expect(parts(a2)!.length).toBe(2); // took over a1's partitions, then revoked towards the 2/2 target
    expect((await describe1(b)).members.map((m) => m.memberId).sort()).toEqual(["a2", "d"]);
  });

  test("session timeout removes a member; an unrevoked member is removed after its rebalance timeout", async () => {
    const b = await broker({ "group.consumer.heartbeat.interval.ms": "100", "group.consumer.session.timeout.ms": "400" });
    await hb(b, joinReq("a", { rebalanceTimeoutMs: 300 }));
    await hb(b, joinReq("b"));
    // a is asked to revoke and never does (but keeps heartbeating): removed after 300 ms.
    await hb(b, { memberId: "a", memberEpoch: 1 }, [0, 1, 2, 3]);
    let bEpoch = 2;
    let bParts: number[] = [];
    for (let i = 0; i < 5; i++) {
      await Bun.sleep(120);
      await hb(b, { memberId: "a", memberEpoch: 1 });
      const r = await hb(b, { memberId: "b", memberEpoch: bEpoch }, bParts);
      expect(r.errorCode).toBe(0);
      bEpoch = r.memberEpoch;
      bParts = parts(r) ?? bParts;
    }
    expect((await hb(b, { memberId: "a", memberEpoch: 1 })).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    expect([bEpoch, bParts]).toEqual([3, [0, 1, 2, 3]]);
    // b stops heartbeating: gone after the session timeout; the group is Empty.
    await Bun.sleep(600);
    expect((await describe1(b)).groupState).toBe("Empty");
  });

  test("new partitions start a new assignment; range assignor by server_assignor; regex subscription", async () => {
    const b = await broker({}, 2);
    const a1 = await hb(b, joinReq("a", { serverAssignor: "range" }));
    expect(parts(a1)).toEqual([0, 1]);
    expect((await describe1(b)).assignorName).toBe("range");
    await b.call(CreatePartitions, 3, { topics: [{ name: "t", count: 5, assignments: null }], timeoutMs: 1000, validateOnly: false });
    const a2 = await hb(b, { memberId: "a", memberEpoch: 1 });
    expect(a2.memberEpoch).toBe(2);
    expect(parts(a2)).toEqual([0, 1, 2, 3, 4]);
    const r1 = await hb(b, { ...joinReq("r", { subscribedTopicNames: null, subscribedTopicRegex: "^t$" }), groupId: "gr" });
    expect(r1.assignment!.topicPartitions[0]!.partitions.length).toBe(5);
  });
});

describe("offsets, admin APIs and persistence of consumer groups", () => {
  const commit = (b: InProcessBroker, memberId: string, epoch: number, partition: number, version = 9) =>
    b.call(OffsetCommit, version, {
      groupId: "g", generationIdOrMemberEpoch: epoch, memberId, groupInstanceId: null, retentionTimeMs: -1,
      topics: [{ name: "t", partitions: [{ partitionIndex: partition, committedOffset: 7, committedLeaderEpoch: 0, commitTimestamp: -1, committedMetadata: null }] }],
    }).then((r) => r.topics[0]!.partitions[0]!.errorCode);
  const fetch = (b: InProcessBroker, memberId: string | null, memberEpoch: number) =>
    b.call(OffsetFetch, 9, { groups: [{ groupId: "g", memberId, memberEpoch, topics: [{ name: "t", partitionIndexes: [0] }] }], requireStable: false }).then((r) => r.groups![0]!);

  test("commit and fetch by member epoch (STALE_MEMBER_EPOCH, KIP-1251 older epochs, v9+ required)", async () => {
    const b = await broker();
    await hb(b, joinReq("a"));
    expect(await commit(b, "a", 1, 0)).toBe(0);
    expect(await commit(b, "a", 2, 0)).toBe(CE.STALE_MEMBER_EPOCH);
    expect(await commit(b, "zz", 1, 0)).toBe(E.UNKNOWN_MEMBER_ID);
    expect(await commit(b, "a", 1, 0, 8)).toBe(CE.UNSUPPORTED_VERSION);
    expect(await commit(b, "", -1, 0)).toBe(E.UNKNOWN_MEMBER_ID); // admin commit into a non-empty group
    // b joins; a revokes two partitions and moves to epoch 2.
    await hb(b, joinReq("b"));
    const a2 = await hb(b, { memberId: "a", memberEpoch: 1 }, [0, 1, 2, 3]);
    const kept = parts(a2)!;
    await hb(b, { memberId: "a", memberEpoch: 1 }, kept);
    // A late commit at epoch 1 is fine for a partition a still holds, stale for one it gave up.
    const gone = [0, 1, 2, 3].find((p) => !kept.includes(p))!;
    expect(await commit(b, "a", 1, kept[0]!)).toBe(0);
    expect(await commit(b, "a", 1, gone)).toBe(CE.STALE_MEMBER_EPOCH);
    expect((await fetch(b, "a", 2)).errorCode).toBe(0);
    expect((await fetch(b, "a", 1)).errorCode).toBe(CE.STALE_MEMBER_EPOCH);
    expect((await fetch(b, "zz", 1)).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    expect((await fetch(b, null, -1)).topics[0]!.partitions[0]!.committedOffset).toBe(7);
  });

  test("ListGroups type consumer, DescribeGroups Dead, JoinGroup refused while members exist, DeleteGroups once empty", async () => {
    const b = await broker();
    await hb(b, joinReq("a"));
    const listed = await b.call(ListGroups, 5, { statesFilter: [], typesFilter: ["consumer"] });
    expect(listed.groups.map((g) => [g.groupId, g.protocolType, g.groupState, g.groupType])).toEqual([["g", "consumer", "Stable", "consumer"]]);
    expect((await b.call(ListGroups, 5, { statesFilter: [], typesFilter: ["classic"] })).groups).toEqual([]);
    const dg = (await b.call(DescribeGroups, 5, { groups: ["g"], includeAuthorizedOperations: false })).groups[0]!;
    expect([dg.errorCode, dg.groupState, dg.protocolType, dg.members.length]).toEqual([0, "Dead", "", 0]);
    const join = () =>
      b.call(JoinGroup, 9, { groupId: "g", sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: "", groupInstanceId: null, protocolType: "consumer", protocols: [{ name: "range", metadata: new Uint8Array(0) }], reason: null });
    expect((await join()).errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL);
    expect((await b.call(DeleteGroups, 2, { groupsNames: ["g"] })).results[0]!.errorCode).toBe(E.NON_EMPTY_GROUP);
    await hb(b, { memberId: "a", memberEpoch: -1 });
    expect((await describe1(b)).groupState).toBe("Empty");
    expect((await b.call(DeleteGroups, 2, { groupsNames: ["g"] })).results[0]!.errorCode).toBe(0);
    expect((await describe1(b)).errorCode).toBe(E.GROUP_ID_NOT_FOUND);
    // Classic group: ConsumerGroupDescribe says it is not a consumer group; an empty one is taken over.
    expect((await join()).errorCode).toBe(E.MEMBER_ID_REQUIRED);
    expect((await describe1(b)).errorMessage).toBe("Group g is not a consumer group.");
  });

  test("an empty classic group with offsets becomes a consumer group and keeps them", async () => {
    const b = await broker();
    expect(await commit(b, "", -1, 0)).toBe(0);
    expect((await hb(b, joinReq("a"))).errorCode).toBe(0);
    expect((await fetch(b, "a", 1)).topics[0]!.partitions[0]!.committedOffset).toBe(7);
  });

  test("restart keeps epochs, assignments and offsets; members carry on without rejoining", async () => {
    let b = await broker();
    await hb(b, joinReq("a"));
    await hb(b, joinReq("b"));
    const a2 = await hb(b, { memberId: "a", memberEpoch: 1 }, [0, 1, 2, 3]);
    await hb(b, { memberId: "a", memberEpoch: 1 }, parts(a2)!);
    const b2 = await hb(b, { memberId: "b", memberEpoch: 2 }, []);
    expect(await commit(b, "b", 2, parts(b2)![0]!)).toBe(0);
    b = await b.reopen();
    open.splice(0, open.length, b);
    const d = await describe1(b);
    expect(d).toMatchObject({ groupState: "Stable", groupEpoch: 2, assignmentEpoch: 2 });
    const a3 = await hb(b, { memberId: "a", memberEpoch: 2 }, parts(a2)!);
    expect([a3.errorCode, a3.memberEpoch, parts(a3)]).toEqual([0, 2, null]);
    expect(await commit(b, "b", 2, parts(b2)![0]!)).toBe(0);
  });
});
