// The group coordinator in-process: the classic state machine through the real handlers (request
// bytes in, response bytes out), offsets and their persistence across a clean reopen and a crash.
import { afterEach, describe, expect, test } from "bun:test";
import * as C from "../../../src/client/codecs.ts";
import { codec } from "../../../src/client/wire-client.ts";
import { writeJoinGroupRequest } from "../../../src/protocol/generated/join-group-request.ts";
import { readJoinGroupResponse, type JoinGroupResponse } from "../../../src/protocol/generated/join-group-response.ts";
import { writeSyncGroupRequest } from "../../../src/protocol/generated/sync-group-request.ts";
import { readSyncGroupResponse } from "../../../src/protocol/generated/sync-group-response.ts";
import { writeHeartbeatRequest } from "../../../src/protocol/generated/heartbeat-request.ts";
import { readHeartbeatResponse } from "../../../src/protocol/generated/heartbeat-response.ts";
import { writeLeaveGroupRequest } from "../../../src/protocol/generated/leave-group-request.ts";
import { readLeaveGroupResponse } from "../../../src/protocol/generated/leave-group-response.ts";
import { writeOffsetCommitRequest } from "../../../src/protocol/generated/offset-commit-request.ts";
import { readOffsetCommitResponse } from "../../../src/protocol/generated/offset-commit-response.ts";
import { writeOffsetFetchRequest } from "../../../src/protocol/generated/offset-fetch-request.ts";
import { readOffsetFetchResponse } from "../../../src/protocol/generated/offset-fetch-response.ts";
import { writeFindCoordinatorRequest } from "../../../src/protocol/generated/find-coordinator-request.ts";
import { readFindCoordinatorResponse } from "../../../src/protocol/generated/find-coordinator-response.ts";
import { writeListGroupsRequest } from "../../../src/protocol/generated/list-groups-request.ts";
import { readListGroupsResponse } from "../../../src/protocol/generated/list-groups-response.ts";
import { writeDescribeGroupsRequest } from "../../../src/protocol/generated/describe-groups-request.ts";
import { readDescribeGroupsResponse } from "../../../src/protocol/generated/describe-groups-response.ts";
import { writeDeleteGroupsRequest } from "../../../src/protocol/generated/delete-groups-request.ts";
import { readDeleteGroupsResponse } from "../../../src/protocol/generated/delete-groups-response.ts";
import { writeOffsetDeleteRequest } from "../../../src/protocol/generated/offset-delete-request.ts";
import { readOffsetDeleteResponse } from "../../../src/protocol/generated/offset-delete-response.ts";
import { Writer } from "../../../src/protocol/writer.ts";
import { writeConsumerProtocolSubscription } from "../../../src/protocol/generated/consumer-protocol-subscription.ts";
import { GroupError as E } from "../../../src/groups/errors.ts";
import { openInProcessBroker, type InProcessBroker } from "../../support/in-process.ts";

const JoinGroup = codec(11, writeJoinGroupRequest, readJoinGroupResponse);
const SyncGroup = codec(14, writeSyncGroupRequest, readSyncGroupResponse);
const Heartbeat = codec(12, writeHeartbeatRequest, readHeartbeatResponse);
const LeaveGroup = codec(13, writeLeaveGroupRequest, readLeaveGroupResponse);
const OffsetCommit = codec(8, writeOffsetCommitRequest, readOffsetCommitResponse);
const OffsetFetch = codec(9, writeOffsetFetchRequest, readOffsetFetchResponse);
const FindCoordinator = codec(10, writeFindCoordinatorRequest, readFindCoordinatorResponse);
const ListGroups = codec(16, writeListGroupsRequest, readListGroupsResponse);
const DescribeGroups = codec(15, writeDescribeGroupsRequest, readDescribeGroupsResponse);
const DeleteGroups = codec(42, writeDeleteGroupsRequest, readDeleteGroupsResponse);
const OffsetDelete = codec(47, writeOffsetDeleteRequest, readOffsetDeleteResponse);

const open: InProcessBroker[] = [];
afterEach(async () => {
  for (const b of open.splice(0)) await b.close().catch(() => {});
});

async function broker(overrides: Record<string, string> = {}): Promise<InProcessBroker> {
  const b = await openInProcessBroker({ "group.initial.rebalance.delay.ms": "0", "group.min.session.timeout.ms": "10", ...overrides });
  open.push(b);
  await b.call(C.CreateTopics, 7, { topics: [{ name: "t", numPartitions: 4, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 1000, validateOnly: false });
  return b;
}

function subscription(topics: string[]): Uint8Array {
  const w = new Writer();
  w.int16(0);
  writeConsumerProtocolSubscription(w, 0, { topics, userData: null });
  return w.toBytes();
}

const protocols = (names: string[] = ["range"], topics = ["t"]) => names.map((name) => ({ name, metadata: subscription(topics) }));

function join(b: InProcessBroker, group: string, memberId = "", opts: { instance?: string | null; protocols?: { name: string; metadata: Uint8Array }[]; session?: number; rebalance?: number; type?: string; version?: number } = {}): Promise<JoinGroupResponse> {
  return b.call(JoinGroup, opts.version ?? 9, {
    groupId: group, sessionTimeoutMs: opts.session ?? 10_000, rebalanceTimeoutMs: opts.rebalance ?? 10_000, memberId,
    groupInstanceId: opts.instance ?? null, protocolType: opts.type ?? "consumer", protocols: opts.protocols ?? protocols(), reason: null,
  });
}

/** Two-step KIP-394 join: MEMBER_ID_REQUIRED, then join with the id. */
async function joinNew(b: InProcessBroker, group: string, opts: Parameters<typeof join>[3] = {}): Promise<JoinGroupResponse> {
  const first = await join(b, group, "", opts);
  expect(first.errorCode).toBe(E.MEMBER_ID_REQUIRED);
  return join(b, group, first.memberId, opts);
}

function sync(b: InProcessBroker, group: string, memberId: string, generationId: number, assignments: { memberId: string; assignment: Uint8Array }[] = [], instance: string | null = null) {
  return b.call(SyncGroup, 5, { groupId: group, generationId, memberId, groupInstanceId: instance, protocolType: "consumer", protocolName: "range", assignments });
}

const heartbeat = (b: InProcessBroker, group: string, memberId: string, generationId: number, instance: string | null = null) =>
  b.call(Heartbeat, 4, { groupId: group, generationId, memberId, groupInstanceId: instance }).then((r) => r.errorCode);

function commit(b: InProcessBroker, group: string, offsets: [number, number, string | null][], generation = -1, memberId = "", version = 9) {
  return b.call(OffsetCommit, version, {
    groupId: group, generationIdOrMemberEpoch: generation, memberId, groupInstanceId: null, retentionTimeMs: -1,
    topics: [{ name: "t", partitions: offsets.map(([p, o, m]) => ({ partitionIndex: p, committedOffset: o, committedLeaderEpoch: 0, commitTimestamp: -1, committedMetadata: m })) }],
  }).then((r) => r.topics[0]!.partitions.map((p) => p.errorCode));
}

async function fetchOffsets(b: InProcessBroker, group: string, partitions: number[] | null = [0, 1, 2, 3]) {
  const r = await b.call(OffsetFetch, 9, { groups: [{ groupId: group, memberId: null, memberEpoch: -1, topics: partitions === null ? null : [{ name: "t", partitionIndexes: partitions }] }], requireStable: true });
  const g = r.groups![0]!;
  return { errorCode: g.errorCode, offsets: g.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, p: p.partitionIndex, offset: p.committedOffset, metadata: p.metadata }))) };
}

describe("FindCoordinator", () => {
  test("groups name this broker; transaction keys are not served; batched keys from v4", async () => {
    const b = await broker();
    const v3 = await b.call(FindCoordinator, 3, { key: "g", keyType: 0 });
    expect(v3).toMatchObject({ errorCode: 0, nodeId: 1, host: "127.0.0.1", port: 19092 });
    const v4 = await b.call(FindCoordinator, 4, { keyType: 0, coordinatorKeys: ["a", "b"] });
    expect(v4.coordinators!.map((c) => [c.key, c.errorCode, c.nodeId])).toEqual([["a", 0, 1], ["b", 0, 1]]);
    const txn = await b.call(FindCoordinator, 4, { keyType: 1, coordinatorKeys: ["x"] });
    expect(txn.coordinators![0]!.errorCode).toBe(E.COORDINATOR_NOT_AVAILABLE);
  });
});

describe("classic group state machine", () => {
  test("join, sync, heartbeat; a second member triggers a rebalance; leave triggers another", async () => {
    const b = await broker();
    const a = await joinNew(b, "g1");
    expect(a).toMatchObject({ errorCode: 0, generationId: 1, protocolName: "range", leader: a.memberId });
    expect(a.members.map((m) => m.memberId)).toEqual([a.memberId]);
    const assignment = new Uint8Array([1, 2, 3]);
    const s = await sync(b, "g1", a.memberId, 1, [{ memberId: a.memberId, assignment }]);
    expect(s.errorCode).toBe(0);
    expect([...s.assignment]).toEqual([1, 2, 3]);
    expect(await heartbeat(b, "g1", a.memberId, 1)).toBe(0);

    // Second member: its join waits until the first rejoins (told by its heartbeat).
    const first = await join(b, "g1", "");
    const pendingB = join(b, "g1", first.memberId);
    expect(await heartbeat(b, "g1", a.memberId, 1)).toBe(E.REBALANCE_IN_PROGRESS);
    const [ra, rb] = await Promise.all([join(b, "g1", a.memberId), pendingB]);
    expect(ra.generationId).toBe(2);
    expect(rb.generationId).toBe(2);
    expect(ra.leader).toBe(a.memberId);
    expect(ra.members.length).toBe(2);
    expect(rb.members.length).toBe(0);
    // Followers wait for the leader's assignment.
    const followerSync = sync(b, "g1", rb.memberId, 2);
    const leaderSync = await sync(b, "g1", a.memberId, 2, [{ memberId: rb.memberId, assignment: new Uint8Array([9]) }]);
    expect(leaderSync.assignment.length).toBe(0);
    expect([...(await followerSync).assignment]).toEqual([9]);
    expect(await heartbeat(b, "g1", rb.memberId, 2)).toBe(0);

    // Stale generation, unknown member.
    expect(await heartbeat(b, "g1", rb.memberId, 1)).toBe(E.ILLEGAL_GENERATION);
    expect(await heartbeat(b, "g1", "nobody", 2)).toBe(E.UNKNOWN_MEMBER_ID);
    expect((await sync(b, "g1", rb.memberId, 1)).errorCode).toBe(E.ILLEGAL_GENERATION);

    // b leaves: a is told to rejoin and gets generation 3 alone.
    const leave = await b.call(LeaveGroup, 5, { groupId: "g1", members: [{ memberId: rb.memberId, groupInstanceId: null, reason: null }] });
    expect(leave.members!.map((m) => m.errorCode)).toEqual([0]);
    expect(await heartbeat(b, "g1", a.memberId, 2)).toBe(E.REBALANCE_IN_PROGRESS);
    const again = await join(b, "g1", a.memberId);
    expect(again).toMatchObject({ errorCode: 0, generationId: 3 });
    const d = await b.call(DescribeGroups, 5, { groups: ["g1"], includeAuthorizedOperations: false });
    expect(d.groups[0]).toMatchObject({ groupState: "CompletingRebalance", protocolType: "consumer" });
  });

  test("session timeout expires a silent member and rebalances the rest", async () => {
    const b = await broker();
    const a = await joinNew(b, "g2", { session: 300 });
    await sync(b, "g2", a.memberId, 1, []);
    const first = await join(b, "g2", "", { session: 300 });
    const pendingB = join(b, "g2", first.memberId, { session: 300 });
    // a never rejoins nor heartbeats: after 300 ms it is removed and b's join completes alone.
    const rb = await pendingB;
    expect(rb).toMatchObject({ errorCode: 0, generationId: 2, leader: rb.memberId });
    expect(rb.members.map((m) => m.memberId)).toEqual([rb.memberId]);
    expect(await heartbeat(b, "g2", a.memberId, 1)).toBe(E.UNKNOWN_MEMBER_ID);
  });

  test("rebalance timeout drops a member that does not rejoin", async () => {
    const b = await broker();
    const a = await joinNew(b, "g3", { session: 5000, rebalance: 200 });
    await sync(b, "g3", a.memberId, 1, []);
    const first = await join(b, "g3", "", { rebalance: 200 });
    const t0 = Date.now();
    const rb = await join(b, "g3", first.memberId, { rebalance: 200 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    expect(rb).toMatchObject({ errorCode: 0, generationId: 2 });
    expect(await heartbeat(b, "g3", a.memberId, 1)).toBe(E.UNKNOWN_MEMBER_ID);
  });

  test("static membership: rejoin with the same instance id keeps the generation; the old id is fenced", async () => {
    const b = await broker();
    const a = await join(b, "g4", "", { instance: "i-1" }); // static members get an id at once
    expect(a).toMatchObject({ errorCode: 0, generationId: 1 });
    await sync(b, "g4", a.memberId, 1, [{ memberId: a.memberId, assignment: new Uint8Array([7]) }], "i-1");
    const again = await join(b, "g4", "", { instance: "i-1" });
    expect(again.errorCode).toBe(0);
    expect(again.generationId).toBe(1); // no rebalance
    expect(again.memberId).not.toBe(a.memberId);
    expect(again.skipAssignment).toBe(true); // the leader (v9) knows the members but keeps the assignment
    expect(await heartbeat(b, "g4", a.memberId, 1, "i-1")).toBe(E.FENCED_INSTANCE_ID);
    expect(await heartbeat(b, "g4", again.memberId, 1, "i-1")).toBe(0);
    expect([...(await sync(b, "g4", again.memberId, 1, [], "i-1")).assignment]).toEqual([7]);
    // Other protocols from the static member: a rebalance.
    const changed = await join(b, "g4", "", { instance: "i-1", protocols: protocols(["range"], ["t", "u"]) });
    expect(changed.generationId).toBe(2);
    // Leave by instance id.
    const leave = await b.call(LeaveGroup, 5, { groupId: "g4", members: [{ memberId: "", groupInstanceId: "i-1", reason: null }] });
    expect(leave.members![0]!.errorCode).toBe(0);
  });

  test("protocol selection: the protocol all members support, by preference votes", async () => {
    const b = await broker();
    const a = await joinNew(b, "g5", { protocols: protocols(["cooperative-sticky", "range"]) });
    expect(a.protocolName).toBe("cooperative-sticky");
    await sync(b, "g5", a.memberId, 1, []);
    const first = await join(b, "g5", "", { protocols: protocols(["range"]) });
    const pb = join(b, "g5", first.memberId, { protocols: protocols(["range"]) });
    const ra = await join(b, "g5", a.memberId, { protocols: protocols(["cooperative-sticky", "range"]) });
    expect(ra.protocolName).toBe("range");
    expect((await pb).protocolName).toBe("range");
    // A member without a common protocol, or with another protocol type, is refused.
    expect((await join(b, "g5", "", { protocols: protocols(["roundrobin"]) })).errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL);
    expect((await join(b, "g5", "", { type: "connect" })).errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL);
  });

  test("error codes: unknown member, invalid session timeout, empty group id, unknown group", async () => {
    const b = await broker({ "group.min.session.timeout.ms": "6000" });
    expect((await join(b, "g6", "", { session: 100 })).errorCode).toBe(E.INVALID_SESSION_TIMEOUT);
    expect((await join(b, "g6", "", { session: 4_000_000 })).errorCode).toBe(E.INVALID_SESSION_TIMEOUT);
    expect((await join(b, "", "")).errorCode).toBe(E.INVALID_GROUP_ID);
    expect((await join(b, "nope", "made-up-id")).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    expect((await sync(b, "nope", "x", 1)).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    expect(await heartbeat(b, "nope", "x", 1)).toBe(E.UNKNOWN_MEMBER_ID);
    // JoinGroup v3 (before KIP-394): a member id at once.
    const v3 = await join(b, "g6b", "", { version: 3 });
    expect(v3).toMatchObject({ errorCode: 0, generationId: 1 });
  });

  test("10 MB of member metadata is stored and handed to the leader", async () => {
    const b = await broker();
    const big = new Uint8Array(10 * 1024 * 1024).fill(7);
    const a = await joinNew(b, "g7", { protocols: [{ name: "range", metadata: big }] });
    expect(a.errorCode).toBe(0);
    expect(a.members[0]!.metadata.length).toBe(big.length);
    const s = await sync(b, "g7", a.memberId, 1, [{ memberId: a.memberId, assignment: big }]);
    expect(s.assignment.length).toBe(big.length);
  });
});

describe("offsets", () => {
  test("commit/fetch round trip with metadata; simple-consumer commits; generation checks", async () => {
    const b = await broker();
    expect(await commit(b, "s1", [[0, 10, "meta-0"], [1, 20, null], [9, 1, null]])).toEqual([0, 0, E.UNKNOWN_TOPIC_OR_PARTITION]);
    const f = await fetchOffsets(b, "s1");
    expect(f.offsets.map((o) => [o.p, o.offset, o.metadata])).toEqual([[0, 10, "meta-0"], [1, 20, ""], [2, -1, ""], [3, -1, ""]]);
    expect((await fetchOffsets(b, "s1", null)).offsets.map((o) => o.p)).toEqual([0, 1]);
    expect(await commit(b, "s1", [[0, 1, "x".repeat(5000)]])).toEqual([E.OFFSET_METADATA_TOO_LARGE]);
    // A group member commits with its generation; a stale one or an outsider is refused.
    const a = await joinNew(b, "m1");
    expect(await commit(b, "m1", [[0, 5, null]], 1, a.memberId)).toEqual([E.REBALANCE_IN_PROGRESS]); // CompletingRebalance
    await sync(b, "m1", a.memberId, 1, []);
    expect(await commit(b, "m1", [[0, 5, null]], 1, a.memberId)).toEqual([0]);
    expect(await commit(b, "m1", [[0, 5, null]], 0, a.memberId)).toEqual([E.ILLEGAL_GENERATION]);
    expect(await commit(b, "m1", [[0, 5, null]], 1, "other")).toEqual([E.UNKNOWN_MEMBER_ID]);
    expect(await commit(b, "m1", [[0, 5, null]], -1, "")).toEqual([E.UNKNOWN_MEMBER_ID]); // admin commit to a live group
    expect(await commit(b, "unknown", [[0, 5, null]], 3, "x")).toEqual([E.GROUP_ID_NOT_FOUND]);
    expect(await commit(b, "unknown", [[0, 5, null]], 3, "x", 8)).toEqual([E.ILLEGAL_GENERATION]);
  });

  test("admin: ListGroups (filters), DescribeGroups, OffsetDelete, DeleteGroups", async () => {
    const b = await broker();
    await commit(b, "simple", [[0, 1, null], [1, 2, null]]);
    const a = await joinNew(b, "live");
    await sync(b, "live", a.memberId, 1, []);
    await commit(b, "live", [[0, 3, null]], 1, a.memberId);
    const all = await b.call(ListGroups, 5, { statesFilter: [], typesFilter: [] });
    expect(all.groups.map((g) => [g.groupId, g.protocolType, g.groupState, g.groupType]).sort()).toEqual([
      ["live", "consumer", "Stable", "classic"],
      ["simple", "", "Empty", "classic"],
    ]);
    const stable = await b.call(ListGroups, 5, { statesFilter: ["stable"], typesFilter: ["classic"] });
    expect(stable.groups.map((g) => g.groupId)).toEqual(["live"]);
    const d = await b.call(DescribeGroups, 5, { groups: ["live", "ghost"], includeAuthorizedOperations: false });
    expect(d.groups[0]).toMatchObject({ groupState: "Stable", protocolData: "range" });
    expect(d.groups[0]!.members[0]!.clientId).toBe("unit-test");
    expect(d.groups[1]).toMatchObject({ errorCode: 0, groupState: "Dead" });

    const od = await b.call(OffsetDelete, 0, { groupId: "live", topics: [{ name: "t", partitions: [{ partitionIndex: 0 }] }] });
    expect(od.topics[0]!.partitions[0]!.errorCode).toBe(E.GROUP_SUBSCRIBED_TO_TOPIC);
    const od2 = await b.call(OffsetDelete, 0, { groupId: "simple", topics: [{ name: "t", partitions: [{ partitionIndex: 0 }] }] });
    expect(od2.topics[0]!.partitions[0]!.errorCode).toBe(0);
    expect((await fetchOffsets(b, "simple", [0, 1])).offsets.map((o) => o.offset)).toEqual([-1, 2]);
    expect((await b.call(OffsetDelete, 0, { groupId: "ghost", topics: [] })).errorCode).toBe(E.GROUP_ID_NOT_FOUND);

    const del = await b.call(DeleteGroups, 2, { groupsNames: ["simple", "live", "ghost"] });
    expect(del.results.map((r) => r.errorCode)).toEqual([0, E.NON_EMPTY_GROUP, E.GROUP_ID_NOT_FOUND]);
    expect((await fetchOffsets(b, "simple", null)).offsets).toEqual([]);
  });

  test("offsets and group generation survive a clean reopen", async () => {
    let b = await broker();
    await commit(b, "p1", [[0, 42, "m"]]);
    const a = await join(b, "p2", "", { instance: "static-1" });
    await sync(b, "p2", a.memberId, 1, [{ memberId: a.memberId, assignment: new Uint8Array([5]) }], "static-1");
    await commit(b, "p2", [[3, 7, null]], 1, a.memberId);
    open.pop();
    b = await b.reopen();
    open.push(b);
    expect((await fetchOffsets(b, "p1", [0])).offsets[0]).toMatchObject({ offset: 42, metadata: "m" });
    expect((await fetchOffsets(b, "p2", [3])).offsets[0]!.offset).toBe(7);
    // The static member comes back with a new id: same generation, its assignment, no rebalance.
    const again = await join(b, "p2", "", { instance: "static-1" });
    expect(again).toMatchObject({ errorCode: 0, generationId: 1 });
    expect([...(await sync(b, "p2", again.memberId, 1, [], "static-1")).assignment]).toEqual([5]);
  });

  test("offsets are replayed after a crash (no clean shutdown)", async () => {
    const b = await broker();
    for (let i = 0; i < 50; i++) await commit(b, "crash", [[i % 4, i, `m${i}`]]);
    // Reopen the same directory without shutting the first broker down (as after kill -9).
    const again = await openInProcessBroker({ "group.initial.rebalance.delay.ms": "0" }, b.dataDir);
    open.push(again);
    const f = await fetchOffsets(again, "crash");
    expect(f.offsets.map((o) => [o.p, o.offset, o.metadata])).toEqual([[0, 48, "m48"], [1, 49, "m49"], [2, 46, "m46"], [3, 47, "m47"]]);
  });

  test("the group log compacts: the newest record per key survives, tombstones are dropped", async () => {
    let b = await broker({ "offsets.topic.segment.bytes": "20000" });
    for (let i = 0; i < 400; i++) await commit(b, `c${i % 3}`, [[i % 4, i, null]]);
    await b.call(DeleteGroups, 2, { groupsNames: ["c2"] });
    const log = b.broker.groups.groupLog;
    expect(log.compactions).toBeGreaterThan(0);
    await log.compactNow();
    expect(log.sizeInBytes).toBeLessThan(5000);
    open.pop();
    b = await b.reopen();
    open.push(b);
    expect((await fetchOffsets(b, "c0")).offsets.map((o) => o.offset)).toEqual([396, 393, 390, 399]); // newest i ≡ 0 (mod 3) per partition i % 4
    expect((await fetchOffsets(b, "c2", null)).offsets).toEqual([]);
    const groups = await b.call(ListGroups, 5, { statesFilter: [], typesFilter: [] });
    expect(groups.groups.map((g) => g.groupId).sort()).toEqual(["c0", "c1"]);
  });
});

describe("offset expiry (offsets.retention.minutes)", () => {
  test("offsets of an empty group expire after the retention, durably; a live group's offsets stay", async () => {
    const b = await broker({ "offsets.retention.minutes": "1" });
    expect(await commit(b, "idle", [[0, 5, "m"]])).toEqual([0]);
    const live = await joinNew(b, "live");
    await sync(b, "live", live.memberId, live.generationId, [{ memberId: live.memberId, assignment: new Uint8Array(0) }]);
    expect(await commit(b, "live", [[1, 7, null]], live.generationId, live.memberId)).toEqual([0]);

    const coordinator = b.broker.groups;
    await coordinator.expireOffsets();
    expect((await fetchOffsets(b, "idle", [0])).offsets[0]!.offset).toBe(5); // not due yet

    const realNow = coordinator.now;
    Object.defineProperty(coordinator, "now", { value: () => realNow() + 2 * 60_000 });
    await heartbeat(b, "live", live.memberId, live.generationId);
    await coordinator.expireOffsets();
    expect((await fetchOffsets(b, "idle", [0])).offsets[0]!.offset).toBe(-1);
    expect((await fetchOffsets(b, "live", [1])).offsets[0]!.offset).toBe(7);

    // The expiry was written as tombstones: a reopened broker does not bring the offsets back.
    const reopened = await b.reopen();
    open.push(reopened);
    expect((await fetchOffsets(reopened, "idle", [0])).offsets[0]!.offset).toBe(-1);
    expect((await fetchOffsets(reopened, "live", [1])).offsets[0]!.offset).toBe(7);
  });
});
