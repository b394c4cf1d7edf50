// Groups in tenant namespaces: KIP-848 consumer groups (ConsumerGroupHeartbeat by names and by regex,
// ConsumerGroupDescribe) and classic-group admin (DescribeGroups, DeleteGroups, OffsetDelete) see
// only the tenant's topics and groups, under the names its clients use.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as C from "../../../src/client/codecs.ts";
import { codec } from "../../../src/client/wire-client.ts";
import { writeConsumerGroupHeartbeatRequest, type ConsumerGroupHeartbeatRequest } from "../../../src/protocol/generated/consumer-group-heartbeat-request.ts";
import { readConsumerGroupHeartbeatResponse } from "../../../src/protocol/generated/consumer-group-heartbeat-response.ts";
import { writeConsumerGroupDescribeRequest } from "../../../src/protocol/generated/consumer-group-describe-request.ts";
import { readConsumerGroupDescribeResponse } from "../../../src/protocol/generated/consumer-group-describe-response.ts";
import { writeDescribeGroupsRequest } from "../../../src/protocol/generated/describe-groups-request.ts";
import { readDescribeGroupsResponse } from "../../../src/protocol/generated/describe-groups-response.ts";
import { writeDeleteGroupsRequest } from "../../../src/protocol/generated/delete-groups-request.ts";
import { readDeleteGroupsResponse } from "../../../src/protocol/generated/delete-groups-response.ts";
import { writeOffsetCommitRequest } from "../../../src/protocol/generated/offset-commit-request.ts";
import { readOffsetCommitResponse } from "../../../src/protocol/generated/offset-commit-response.ts";
import { writeFindCoordinatorRequest } from "../../../src/protocol/generated/find-coordinator-request.ts";
import { readFindCoordinatorResponse } from "../../../src/protocol/generated/find-coordinator-response.ts";
import { writeJoinGroupRequest } from "../../../src/protocol/generated/join-group-request.ts";
import { readJoinGroupResponse } from "../../../src/protocol/generated/join-group-response.ts";
import { writeSyncGroupRequest } from "../../../src/protocol/generated/sync-group-request.ts";
import { readSyncGroupResponse } from "../../../src/protocol/generated/sync-group-response.ts";
import { writeOffsetDeleteRequest } from "../../../src/protocol/generated/offset-delete-request.ts";
import { readOffsetDeleteResponse } from "../../../src/protocol/generated/offset-delete-response.ts";
import { readConsumerProtocolSubscription, writeConsumerProtocolSubscription } from "../../../src/protocol/generated/consumer-protocol-subscription.ts";
import { Reader } from "../../../src/protocol/reader.ts";
import { Writer } from "../../../src/protocol/writer.ts";
import { openTwoTenantBroker, type PrincipalBroker } from "./principal-broker.ts";

const Heartbeat = codec(68, writeConsumerGroupHeartbeatRequest, readConsumerGroupHeartbeatResponse);
const CgDescribe = codec(69, writeConsumerGroupDescribeRequest, readConsumerGroupDescribeResponse);
const DescribeGroups = codec(15, writeDescribeGroupsRequest, readDescribeGroupsResponse);
const DeleteGroups = codec(42, writeDeleteGroupsRequest, readDeleteGroupsResponse);
const OffsetCommit = codec(8, writeOffsetCommitRequest, readOffsetCommitResponse);
const FindCoordinator = codec(10, writeFindCoordinatorRequest, readFindCoordinatorResponse);
const JoinGroup = codec(11, writeJoinGroupRequest, readJoinGroupResponse);
const SyncGroup = codec(14, writeSyncGroupRequest, readSyncGroupResponse);
const OffsetDelete = codec(47, writeOffsetDeleteRequest, readOffsetDeleteResponse);

function subscription(topics: string[], owned: string[]): Uint8Array {
  const w = new Writer(64);
  w.int16(1);
  writeConsumerProtocolSubscription(w, 1, { topics, userData: null, ownedPartitions: owned.map((topic) => ({ topic, partitions: [0] })) });
  return w.toBytes();
}

function subscribed(metadata: Uint8Array): string[] {
  const r = new Reader(metadata, 2);
  const sub = readConsumerProtocolSubscription(r, 1);
  return [...sub.topics, ...(sub.ownedPartitions ?? []).map((p) => `owned:${p.topic}`)];
}

const GROUP_ID_NOT_FOUND = 69;

let pb: PrincipalBroker;
const ids: Record<string, string> = {};

beforeAll(async () => {
  pb = await openTwoTenantBroker({ "group.consumer.heartbeat.interval.ms": "1000", "group.initial.rebalance.delay.ms": "0" });
  for (const [user, topics] of [["alice", ["orders"]], ["bob", ["orders", "ordinals"]]] as const) {
    const r = await pb.as(user)(C.CreateTopics, 7, { topics: topics.map((name) => ({ name, numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] })), timeoutMs: 1000, validateOnly: false });
    for (const t of r.topics) ids[`${user}/${t.name}`] = t.topicId!;
  }
});

afterAll(async () => {
  await pb.close();
});

const join848 = (extra: Partial<ConsumerGroupHeartbeatRequest>): ConsumerGroupHeartbeatRequest => ({
  groupId: "g", memberId: "m1", memberEpoch: 0, instanceId: null, rackId: null, rebalanceTimeoutMs: 10_000,
  subscribedTopicNames: null, subscribedTopicRegex: null, serverAssignor: null, topicPartitions: [], ...extra,
});

describe("KIP-848 consumer groups", () => {
  test("subscription by name and by regex: each tenant's member is assigned only its own topics", async () => {
    const a = await pb.as("alice")(Heartbeat, 1, join848({ subscribedTopicNames: ["orders"] }));
    expect(a.errorCode).toBe(0);
    expect(a.assignment!.topicPartitions.map((t) => t.topicId)).toEqual([ids["alice/orders"]!]);
    // Same group id and member id in the other tenant, by regex: bob's two "ord" topics, none of alice's.
    const b = await pb.as("bob")(Heartbeat, 1, join848({ subscribedTopicRegex: "ord.*" }));
    expect(b.errorCode).toBe(0);
    expect(b.memberEpoch).toBe(1); // a new group, not alice's
    expect(b.assignment!.topicPartitions.map((t) => t.topicId).sort()).toEqual([ids["bob/orders"]!, ids["bob/ordinals"]!].sort());
  });

  test("ConsumerGroupDescribe shows client names; another tenant's group is not found", async () => {
    const d = await pb.as("bob")(CgDescribe, 0, { groupIds: ["g"], includeAuthorizedOperations: false });
    const g = d.groups[0]!;
    expect(g.groupId).toBe("g");
    expect(g.members[0]!.subscribedTopicRegex).toBe("ord.*");
    expect(g.members[0]!.assignment.topicPartitions.map((t) => t.topicName).sort()).toEqual(["orders", "ordinals"]);
    const alice = await pb.as("alice")(CgDescribe, 0, { groupIds: ["g", "nope"], includeAuthorizedOperations: false });
    expect(alice.groups[0]!.members[0]!.subscribedTopicNames).toEqual(["orders"]);
    expect(alice.groups[1]!.groupId).toBe("nope");
    expect(alice.groups[1]!.errorCode).toBe(GROUP_ID_NOT_FOUND);
    expect(alice.groups[1]!.errorMessage ?? "").not.toContain("__lc-");
  });
});

describe("classic group admin", () => {
  test("FindCoordinator, DescribeGroups and DeleteGroups act on the tenant's group of that name", async () => {
    for (const user of ["alice", "bob"]) {
      const c = await pb.as(user)(OffsetCommit, 8, {
        groupId: "simple", generationIdOrMemberEpoch: -1, memberId: "", groupInstanceId: null,
        topics: [{ name: "orders", partitions: [{ partitionIndex: 0, committedOffset: 0, committedLeaderEpoch: -1, committedMetadata: null }] }],
      });
      expect(c.topics[0]!.partitions[0]!.errorCode).toBe(0);
    }
    const fc = await pb.as("alice")(FindCoordinator, 4, { keyType: 0, coordinatorKeys: ["simple", "other"] });
    expect(fc.coordinators!.map((c) => c.key)).toEqual(["simple", "other"]);
    const dg = await pb.as("alice")(DescribeGroups, 5, { groups: ["simple"], includeAuthorizedOperations: false });
    expect(dg.groups[0]).toMatchObject({ groupId: "simple", groupState: "Empty" });
    const del = await pb.as("alice")(DeleteGroups, 2, { groupsNames: ["simple"] });
    expect(del.results).toEqual([{ groupId: "simple", errorCode: 0 }]);
    // bob's group of the same name is still there.
    const bobDg = await pb.as("bob")(DescribeGroups, 5, { groups: ["simple"], includeAuthorizedOperations: false });
    expect(bobDg.groups[0]!.groupState).toBe("Empty");
    const aliceDg = await pb.as("alice")(DescribeGroups, 5, { groups: ["simple"], includeAuthorizedOperations: false });
    expect(aliceDg.groups[0]!.groupState).toBe("Dead");
  });
});

describe("classic consumer groups", () => {
  test("subscriptions are stored with internal names: the leader and DescribeGroups see client names, OffsetDelete knows the group is subscribed", async () => {
    const join = (memberId: string) => pb.as("alice")(JoinGroup, 5, {
      groupId: "cg", sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId, groupInstanceId: null, protocolType: "consumer",
      protocols: [{ name: "range", metadata: subscription(["orders"], ["orders"]) }],
    });
    const first = await join("");
    expect(first.errorCode).toBe(79); // MEMBER_ID_REQUIRED
    const joined = await join(first.memberId);
    expect(joined.errorCode).toBe(0);
    expect(joined.members.map((m) => subscribed(m.metadata))).toEqual([["orders", "owned:orders"]]);
    const synced = await pb.as("alice")(SyncGroup, 5, {
      groupId: "cg", generationId: joined.generationId, memberId: joined.memberId, groupInstanceId: null, protocolType: "consumer", protocolName: "range",
      assignments: [{ memberId: joined.memberId, assignment: new Uint8Array([0, 0]) }],
    });
    expect(synced.errorCode).toBe(0);
    const mine = await pb.as("alice")(DescribeGroups, 5, { groups: ["cg"], includeAuthorizedOperations: false });
    expect(mine.groups[0]!.members.map((m) => subscribed(m.memberMetadata))).toEqual([["orders", "owned:orders"]]);
    const global = await pb.as(null)(DescribeGroups, 5, { groups: ["__lc-1.cg"], includeAuthorizedOperations: false });
    expect(global.groups[0]!.members.map((m) => subscribed(m.memberMetadata))).toEqual([["__lc-1.orders", "owned:__lc-1.orders"]]);
    const del = await pb.as("alice")(OffsetDelete, 0, { groupId: "cg", topics: [{ name: "orders", partitions: [{ partitionIndex: 0 }] }] });
    expect(del.topics[0]!.name).toBe("orders");
    expect(del.topics[0]!.partitions[0]!.errorCode).toBe(86); // GROUP_SUBSCRIBED_TO_TOPIC
  });
});
