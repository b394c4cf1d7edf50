/**
 * Keys and values of the records in the coordinator's internal log (Bunka's `__consumer_offsets`).
 * Like Kafka's, every key starts with an int16 record type and every value with an int16 version,
 * so later formats (KIP-848 consumer-group records get types of their own) can sit beside these.
 * The log is compacted by key: the newest record per key wins, a null value (tombstone) deletes.
 * All integers big-endian; `string` = int16 length + UTF-8; `nstring` = same, -1 for null;
 * `bytes` = int32 length + bytes.
 *
 * Key type 1, offset commit:  string group, string topic, int32 partition
 *   value v1: int64 offset, int32 leaderEpoch, nstring metadata, int64 commitTimestamp,
 *             int64 expireTimestamp (-1: none)
 * Key type 2, classic group metadata:  string group
 *   value v1: nstring protocolType, int32 generation, nstring protocolName, nstring leader,
 *             int64 stateTimestamp, int32 memberCount, then per member: string memberId,
 *             nstring groupInstanceId, string clientId, string clientHost, int32 rebalanceTimeoutMs,
 *             int32 sessionTimeoutMs, bytes subscription (metadata of the selected protocol),
 *             bytes assignment
 * Key type 3, KIP-848 consumer group:  string group
 * Key type 4, KIP-848 consumer group member:  string group, string memberId
 *   (values of types 3 and 4: consumer-record-codec.ts)
 */
import { Reader } from "../protocol/reader.ts";
import { Writer } from "../protocol/writer.ts";

export const OFFSET_KEY_TYPE = 1;
export const GROUP_KEY_TYPE = 2;
export const CONSUMER_GROUP_KEY_TYPE = 3;
export const CONSUMER_MEMBER_KEY_TYPE = 4;
const OFFSET_VALUE_VERSION = 1;
const GROUP_VALUE_VERSION = 1;

export interface OffsetKey {
  type: typeof OFFSET_KEY_TYPE;
  group: string;
  topic: string;
  partition: number;
}

export interface GroupKey {
  type: typeof GROUP_KEY_TYPE;
  group: string;
}

export interface ConsumerGroupKey {
  type: typeof CONSUMER_GROUP_KEY_TYPE;
  group: string;
}

export interface ConsumerMemberKey {
  type: typeof CONSUMER_MEMBER_KEY_TYPE;
  group: string;
  memberId: string;
}

export type RecordKey = OffsetKey | GroupKey | ConsumerGroupKey | ConsumerMemberKey;

export interface OffsetValue {
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
  commitTimestamp: number;
  expireTimestamp: number;
}

export interface StoredMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  subscription: Uint8Array;
  assignment: Uint8Array;
}

export interface GroupValue {
  protocolType: string | null;
  generation: number;
  protocolName: string | null;
  leader: string | null;
  stateTimestamp: number;
  members: StoredMember[];
}

export function encodeOffsetKey(group: string, topic: string, partition: number): Uint8Array {
  const w = new Writer(64);
  w.int16(OFFSET_KEY_TYPE);
  w.string(group);
  w.string(topic);
  w.int32(partition);
  return w.toBytes();
}

export function encodeGroupKey(group: string): Uint8Array {
  const w = new Writer(32);
  w.int16(GROUP_KEY_TYPE);
  w.string(group);
  return w.toBytes();
}

export function encodeConsumerGroupKey(group: string): Uint8Array {
  const w = new Writer(32);
  w.int16(CONSUMER_GROUP_KEY_TYPE);
  w.string(group);
  return w.toBytes();
}

export function encodeConsumerMemberKey(group: string, memberId: string): Uint8Array {
  const w = new Writer(64);
  w.int16(CONSUMER_MEMBER_KEY_TYPE);
  w.string(group);
  w.string(memberId);
  return w.toBytes();
}

/** null for a key type this version does not know (skipped on replay, kept by compaction). */
export function decodeKey(bytes: Uint8Array): RecordKey | null {
  const r = new Reader(bytes);
  const type = r.int16();
  let key: RecordKey | null = null;
  if (type === OFFSET_KEY_TYPE) key = { type, group: r.string(), topic: r.string(), partition: r.int32() };
  else if (type === GROUP_KEY_TYPE) key = { type, group: r.string() };
  else if (type === CONSUMER_GROUP_KEY_TYPE) key = { type, group: r.string() };
  else if (type === CONSUMER_MEMBER_KEY_TYPE) key = { type, group: r.string(), memberId: r.string() };
  if (r.error) throw new Error(`corrupt group log key: ${r.error}`);
  return key;
}

export function encodeOffsetValue(v: OffsetValue): Uint8Array {
  const w = new Writer(64 + (v.metadata?.length ?? 0) * 3);
  w.int16(OFFSET_VALUE_VERSION);
  w.int64(v.offset);
  w.int32(v.leaderEpoch);
  w.nullableString(v.metadata);
  w.int64(v.commitTimestamp);
  w.int64(v.expireTimestamp);
  return w.toBytes();
}

export function decodeOffsetValue(bytes: Uint8Array): OffsetValue {
  const r = new Reader(bytes);
  const version = r.int16();
  if (version !== OFFSET_VALUE_VERSION) throw new Error(`unknown offset value version ${version}`);
  const v: OffsetValue = {
    offset: r.int64(),
    leaderEpoch: r.int32(),
    metadata: r.nullableString(),
    commitTimestamp: r.int64(),
    expireTimestamp: r.int64(),
  };
  if (r.error) throw new Error(`corrupt offset value: ${r.error}`);
  return v;
}

export function encodeGroupValue(v: GroupValue): Uint8Array {
  let size = 128;
  for (const m of v.members) size += 256 + m.subscription.length + m.assignment.length;
  const w = new Writer(size);
  w.int16(GROUP_VALUE_VERSION);
  w.nullableString(v.protocolType);
  w.int32(v.generation);
  w.nullableString(v.protocolName);
  w.nullableString(v.leader);
  w.int64(v.stateTimestamp);
  w.int32(v.members.length);
  for (const m of v.members) {
    w.string(m.memberId);
    w.nullableString(m.groupInstanceId);
    w.string(m.clientId);
    w.string(m.clientHost);
    w.int32(m.rebalanceTimeoutMs);
    w.int32(m.sessionTimeoutMs);
    w.bytes(m.subscription);
    w.bytes(m.assignment);
  }
  return w.toBytes();
}

export function decodeGroupValue(bytes: Uint8Array): GroupValue {
  const r = new Reader(bytes);
  const version = r.int16();
  if (version !== GROUP_VALUE_VERSION) throw new Error(`unknown group value version ${version}`);
  const protocolType = r.nullableString();
  const generation = r.int32();
  const protocolName = r.nullableString();
  const leader = r.nullableString();
  const stateTimestamp = r.int64();
  const count = r.int32();
  if (count < 0 || count > r.remaining) throw new Error(`corrupt group value: ${count} members`);
  const members: StoredMember[] = [];
  for (let i = 0; i < count && r.error === null; i++) {
    members.push({
      memberId: r.string(),
      groupInstanceId: r.nullableString(),
      clientId: r.string(),
      clientHost: r.string(),
      rebalanceTimeoutMs: r.int32(),
      sessionTimeoutMs: r.int32(),
      subscription: r.bytes().slice(),
      assignment: r.bytes().slice(),
    });
  }
  if (r.error) throw new Error(`corrupt group value: ${r.error}`);
  return { protocolType, generation, protocolName, leader, stateTimestamp, members };
}
