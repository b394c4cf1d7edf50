/**
 * Values of the KIP-848 records in the group log (keys in record-codec.ts). Kafka splits this state
 * into six record types; here one record per group and one per member carry it, each rewritten
 * whole when it changes (members are small: subscriptions and partition lists).
 *
 * Consumer group (key type 3), value v1:
 *   int32 groupEpoch, int32 assignmentEpoch, int64 stateTimestamp, string subscriptionFingerprint
 * Consumer member (key type 4), value v1:
 *   nstring instanceId, nstring rackId, string clientId, string clientHost, int32 rebalanceTimeoutMs,
 *   nstring serverAssignor, int32 n + n × string subscribedTopicNames, nstring subscribedTopicRegex,
 *   int32 memberEpoch, int32 previousMemberEpoch, int8 state (0 stable, 1 unrevoked, 2 unreleased),
 *   partitions assigned, partitions pendingRevocation, partitions target
 *   where partitions = int32 topics, then per topic: uuid topicId, int32 n, n × (int32 partition,
 *   int32 assignedAtEpoch)   (assignedAtEpoch is -1 in the target list)
 */
import { Reader } from "../protocol/reader.ts";
import { Writer } from "../protocol/writer.ts";
import { ConsumerMember, type MemberState } from "./consumer-member.ts";
import { addPartition, partitionKey, type TopicPartitions } from "./topic-partitions.ts";

const GROUP_VALUE_VERSION = 1;
const MEMBER_VALUE_VERSION = 1;
const STATES: readonly MemberState[] = ["stable", "unrevoked", "unreleased"];

export interface ConsumerGroupValue {
  groupEpoch: number;
  assignmentEpoch: number;
  stateTimestamp: number;
  subscriptionFingerprint: string;
}

export function encodeConsumerGroupValue(v: ConsumerGroupValue): Uint8Array {
  const w = new Writer(64 + v.subscriptionFingerprint.length * 3);
  w.int16(GROUP_VALUE_VERSION);
  w.int32(v.groupEpoch);
  w.int32(v.assignmentEpoch);
  w.int64(v.stateTimestamp);
  w.string(v.subscriptionFingerprint);
  return w.toBytes();
}

export function decodeConsumerGroupValue(bytes: Uint8Array): ConsumerGroupValue {
  const r = new Reader(bytes);
  const version = r.int16();
  if (version !== GROUP_VALUE_VERSION) throw new Error(`unknown consumer group value version ${version}`);
  const v = { groupEpoch: r.int32(), assignmentEpoch: r.int32(), stateTimestamp: r.int64(), subscriptionFingerprint: r.string() };
  if (r.error) throw new Error(`corrupt consumer group value: ${r.error}`);
  return v;
}

export function encodeConsumerMemberValue(m: ConsumerMember, target: TopicPartitions): Uint8Array {
  const w = new Writer(256);
  w.int16(MEMBER_VALUE_VERSION);
  w.nullableString(m.instanceId);
  w.nullableString(m.rackId);
  w.string(m.clientId);
  w.string(m.clientHost);
  w.int32(m.rebalanceTimeoutMs);
  w.nullableString(m.serverAssignor);
  w.int32(m.subscribedTopicNames.length);
  for (const t of m.subscribedTopicNames) w.string(t);
  w.nullableString(m.subscribedTopicRegex);
  w.int32(m.memberEpoch);
  w.int32(m.previousMemberEpoch);
  w.int8(STATES.indexOf(m.state));
  writePartitions(w, m.assigned, m.assignedAt);
  writePartitions(w, m.pendingRevocation, m.assignedAt);
  writePartitions(w, target, null);
  return w.toBytes();
}

export function decodeConsumerMemberValue(memberId: string, bytes: Uint8Array): { member: ConsumerMember; target: TopicPartitions } {
  const r = new Reader(bytes);
  const version = r.int16();
  if (version !== MEMBER_VALUE_VERSION) throw new Error(`unknown consumer member value version ${version}`);
  const m = new ConsumerMember(memberId);
  m.instanceId = r.nullableString();
  m.rackId = r.nullableString();
  m.clientId = r.string();
  m.clientHost = r.string();
  m.rebalanceTimeoutMs = r.int32();
  m.serverAssignor = r.nullableString();
  const n = r.int32();
  if (n < 0 || n > r.remaining) throw new Error(`corrupt consumer member value: ${n} topics`);
  for (let i = 0; i < n && r.error === null; i++) m.subscribedTopicNames.push(r.string());
  m.subscribedTopicRegex = r.nullableString();
  m.memberEpoch = r.int32();
  m.previousMemberEpoch = r.int32();
  m.state = STATES[r.int8()] ?? "stable";
  m.assigned = readPartitions(r, m.assignedAt);
  m.pendingRevocation = readPartitions(r, m.assignedAt);
  const target = readPartitions(r, null);
  if (r.error) throw new Error(`corrupt consumer member value: ${r.error}`);
  return { member: m, target };
}

function writePartitions(w: Writer, tp: TopicPartitions, stamps: ReadonlyMap<string, number> | null): void {
  w.int32(tp.size);
  for (const [topicId, ps] of tp) {
    w.uuid(topicId);
    w.int32(ps.size);
    for (const p of ps) {
      w.int32(p);
      w.int32(stamps?.get(partitionKey(topicId, p)) ?? -1);
    }
  }
}

function readPartitions(r: Reader, stamps: Map<string, number> | null): TopicPartitions {
  const out: TopicPartitions = new Map();
  const topics = r.int32();
  if (topics < 0 || topics > r.remaining) {
    r.fail(`${topics} topics`);
    return out;
  }
  for (let i = 0; i < topics && r.error === null; i++) {
    const topicId = r.uuid();
    const n = r.int32();
    if (n < 0 || n > r.remaining) {
      r.fail(`${n} partitions`);
      return out;
    }
    for (let j = 0; j < n && r.error === null; j++) {
      const p = r.int32();
      const at = r.int32();
      addPartition(out, topicId, p);
      if (stamps !== null && at >= 0) stamps.set(partitionKey(topicId, p), at);
    }
  }
  return out;
}
