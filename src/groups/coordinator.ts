/**
 * The group coordinator: the registry of groups (one namespace of group ids for every kind of
 * group), committed offsets, and their durable log. The broker is the coordinator of every group
 * (single node), so FindCoordinator always names it.
 *
 * Storage: a CompactedLog under `<data>/__bunka_internal/consumer-offsets/` (outside the topic
 * directories, which the topic manager owns) with the records of record-codec.ts. At open the log
 * is replayed: offsets go back into the OffsetStore, group records rebuild classic groups (Stable
 * with their stored members, or Empty), and offsets without a group record get a "simple" group,
 * as in Kafka. A commit is answered only after its record is durable.
 *
 * Offset expiry (offsets.retention.minutes), swept every offsets.retention.check.interval.ms like
 * Kafka 2.1+ (KIP-211): offsets of an empty group expire `retention` after the group became empty
 * (simple groups: after the commit); in a non-empty consumer group, offsets of topics nobody
 * subscribes to expire `retention` after their commit. Empty groups left without offsets are
 * deleted (a tombstone for their record).
 *
 * KIP-848 consumer groups (ConsumerGroupHeartbeat) live in the same map; their membership logic is
 * in consumer-heartbeat.ts (`this.consumer`). Offsets work the same for both kinds; commits of
 * consumer-group members are validated by member epoch (STALE_MEMBER_EPOCH).
 */
import { join } from "node:path";
import { ClassicGroup, type GroupEnvironment, type JoinParams, type JoinResult, type MemberIdentity, type SyncParams, type SyncResult } from "./classic-group.ts";
import { CompactedLog, type KeyValue } from "./compacted-log.ts";
import { ConsumerGroupError } from "./consumer-errors.ts";
import { ConsumerGroup } from "./consumer-group.ts";
import { ConsumerGroupService, type ConsumerGroupSettings } from "./consumer-heartbeat.ts";
import { DeadlineScheduler } from "./deadlines.ts";
import { GroupError } from "./errors.ts";
import type { Group, GroupType } from "./group.ts";
import { OffsetStore, type CommittedOffset } from "./offset-store.ts";
import type { TopicView } from "./topic-view.ts";
import {
  CONSUMER_GROUP_KEY_TYPE,
  CONSUMER_MEMBER_KEY_TYPE,
  GROUP_KEY_TYPE,
  OFFSET_KEY_TYPE,
  decodeGroupValue,
  decodeKey,
  decodeOffsetValue,
  encodeGroupKey,
  encodeGroupValue,
  encodeOffsetKey,
  encodeOffsetValue,
  type GroupValue,
} from "./record-codec.ts";

export interface CoordinatorConfig {
  dataDir: string;
  initialRebalanceDelayMs: number;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  maxGroupSize: number;
  offsetsRetentionMs: number;
  offsetsRetentionCheckIntervalMs: number;
  offsetMetadataMaxBytes: number;
  /** The group log is compacted once it is larger than this (and twice its live data). */
  logSegmentBytes: number;
  /** Largest record batch of the group log (a group record carries every member's metadata). */
  maxBatchBytes: number;
}

export interface OffsetCommitParams {
  groupId: string;
  memberId: string;
  groupInstanceId: string | null;
  generationIdOrMemberEpoch: number;
  /** OffsetCommit v9+ answers GROUP_ID_NOT_FOUND for unknown groups (older: ILLEGAL_GENERATION). */
  version: number;
  /** v2-4 retention_time_ms; -1 = broker default. */
  retentionTimeMs: number;
  partitions: { topic: string; partition: number; offset: number; leaderEpoch: number; metadata: string | null }[];
}

export interface FetchedOffset {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
  errorCode: number;
}

export interface GroupListing {
  groupId: string;
  protocolType: string;
  state: string;
  type: GroupType;
}

export interface GroupDescription {
  errorCode: number;
  groupId: string;
  state: string;
  protocolType: string;
  protocolData: string;
  members: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    metadata: Uint8Array;
    assignment: Uint8Array;
  }[];
}

/** Where the group log lives under the data directory (not `<name>-<digits>`: not a partition dir). */
export const GROUP_LOG_SUBDIR = join("__bunka_internal", "consumer-offsets");

export class GroupCoordinator {
  readonly groups = new Map<string, Group>();
  readonly offsets = new OffsetStore();
  readonly scheduler: DeadlineScheduler;
  /** KIP-848 consumer groups (ConsumerGroupHeartbeat / ConsumerGroupDescribe). */
  readonly consumer: ConsumerGroupService;
  private readonly env: GroupEnvironment;
  private sweepTimer: ReturnType<typeof setInterval> | null = null;
  private closed = false;

  private constructor(
    readonly config: CoordinatorConfig,
    private readonly storage: CompactedLog,
    /** Whether a topic partition exists (OffsetCommit/OffsetDelete answer UNKNOWN_TOPIC_OR_PARTITION otherwise). */
    private readonly partitionExists: (topic: string, partition: number) => boolean,
    private readonly log: (msg: string) => void,
    readonly now: () => number,
  ) {
    this.scheduler = new DeadlineScheduler(now, (e) => log(`group timer failed: ${(e as Error).stack ?? String(e)}`));
    this.env = {
      scheduler: this.scheduler,
      now,
      initialRebalanceDelayMs: config.initialRebalanceDelayMs,
      maxSize: config.maxGroupSize,
      store: (group, value) => this.storeGroup(group.groupId, value),
      log,
    };
    this.consumer = new ConsumerGroupService({
      groups: this.groups,
      scheduler: this.scheduler,
      now,
      write: (records) => this.storage.write(records),
      log,
      isClosed: () => this.closed,
    });
  }

  /** Settings and topic metadata of KIP-848 groups (set by the broker before serving them). */
  configureConsumerGroups(settings: ConsumerGroupSettings, topics: TopicView): void {
    this.consumer.settings = settings;
    this.consumer.topics = topics;
  }

  static async open(
    config: CoordinatorConfig,
    partitionExists: (topic: string, partition: number) => boolean,
    log: (msg: string) => void,
    now: () => number = Date.now,
  ): Promise<GroupCoordinator> {
    const storage = await CompactedLog.open(join(config.dataDir, GROUP_LOG_SUBDIR), {
      compactMinBytes: config.logSegmentBytes,
      segmentBytes: config.logSegmentBytes,
      maxBatchBytes: config.maxBatchBytes,
      log,
    });
    const c = new GroupCoordinator(config, storage, partitionExists, log, now);
    c.replay();
    return c;
  }

  /** Starts the periodic offset-expiry sweep. */
  startBackgroundTasks(): void {
    this.sweepTimer = setInterval(() => void this.expireOffsets().catch((e) => this.log(`offset expiry failed: ${(e as Error).message}`)), this.config.offsetsRetentionCheckIntervalMs);
    this.sweepTimer.unref?.();
  }

  async shutdown(): Promise<void> {
    this.closed = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const g of this.groups.values()) if (g instanceof ClassicGroup) g.abort();
    this.scheduler.stop();
    await this.storage.close();
  }

  /** For tests: the underlying log. */
  get groupLog(): CompactedLog {
    return this.storage;
  }

  // ---- classic membership -------------------------------------------------------------------------

  joinGroup(groupId: string, p: JoinParams): JoinResult | Promise<JoinResult> {
    const fail = (errorCode: number): JoinResult => ({
      errorCode, generationId: -1, protocolType: null, protocolName: null, leader: "", skipAssignment: false, memberId: p.memberId, members: [],
    });
    if (this.closed) return fail(GroupError.NOT_COORDINATOR);
    if (groupId === "") return fail(GroupError.INVALID_GROUP_ID);
    if (p.sessionTimeoutMs < this.config.minSessionTimeoutMs || p.sessionTimeoutMs > this.config.maxSessionTimeoutMs) {
      return fail(GroupError.INVALID_SESSION_TIMEOUT);
    }
    let group = this.groups.get(groupId);
    if (group === undefined) {
      // Only a member without an id may create a group (Kafka: UNKNOWN_MEMBER_ID otherwise).
      if (p.memberId !== "") return fail(GroupError.UNKNOWN_MEMBER_ID);
      group = new ClassicGroup(groupId, this.env);
      this.groups.set(groupId, group);
    }
    if (group instanceof ConsumerGroup && group.hasNoMembers()) {
      // An empty consumer group turns back into a classic group (its offsets stay), as in Kafka.
      const tombstones = this.consumer.tombstones(group);
      group.markDead();
      group = new ClassicGroup(groupId, this.env);
      this.groups.set(groupId, group);
      void this.storage.write(tombstones).catch((e) => this.log(`group ${groupId}: removing consumer group records failed: ${(e as Error).message}`));
    }
    // Without KIP-848 online migration, classic members cannot join a non-empty consumer group.
    if (!(group instanceof ClassicGroup)) return fail(GroupError.INCONSISTENT_GROUP_PROTOCOL);
    return group.join(p);
  }

  syncGroup(groupId: string, p: SyncParams): SyncResult | Promise<SyncResult> {
    const fail = (errorCode: number): SyncResult => ({ errorCode, protocolType: null, protocolName: null, assignment: new Uint8Array(0) });
    if (this.closed) return fail(GroupError.NOT_COORDINATOR);
    if (groupId === "") return fail(GroupError.INVALID_GROUP_ID);
    const group = this.groups.get(groupId);
    if (group === undefined) return fail(GroupError.UNKNOWN_MEMBER_ID);
    if (!(group instanceof ClassicGroup)) return fail(GroupError.INCONSISTENT_GROUP_PROTOCOL);
    return group.sync(p);
  }

  heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    if (this.closed) return GroupError.NOT_COORDINATOR;
    if (groupId === "") return GroupError.INVALID_GROUP_ID;
    const group = this.groups.get(groupId);
    if (group === undefined) return GroupError.UNKNOWN_MEMBER_ID;
    if (!(group instanceof ClassicGroup)) return GroupError.INCONSISTENT_GROUP_PROTOCOL;
    return group.heartbeat(memberId, groupInstanceId, generationId);
  }

  /** Top-level error, then one code per member. */
  leaveGroup(groupId: string, members: readonly MemberIdentity[]): { errorCode: number; members: number[] } {
    if (this.closed) return { errorCode: GroupError.NOT_COORDINATOR, members: [] };
    if (groupId === "") return { errorCode: GroupError.INVALID_GROUP_ID, members: [] };
    const group = this.groups.get(groupId);
    if (group === undefined) return { errorCode: GroupError.NONE, members: members.map(() => GroupError.UNKNOWN_MEMBER_ID) };
    if (!(group instanceof ClassicGroup)) return { errorCode: GroupError.INCONSISTENT_GROUP_PROTOCOL, members: [] };
    return { errorCode: GroupError.NONE, members: group.leave(members) };
  }

  // ---- offsets ------------------------------------------------------------------------------------

  /** One error code per partition, in request order. */
  async commitOffsets(p: OffsetCommitParams): Promise<number[]> {
    const all = (code: number): number[] => p.partitions.map(() => code);
    if (this.closed) return all(GroupError.NOT_COORDINATOR);
    if (p.groupId === "") return all(GroupError.INVALID_GROUP_ID);
    let group = this.groups.get(p.groupId);
    if (group === undefined) {
      if (p.generationIdOrMemberEpoch >= 0) return all(p.version >= 9 ? GroupError.GROUP_ID_NOT_FOUND : GroupError.ILLEGAL_GENERATION);
      // Admin tools and consumers without group management commit into a "simple" group.
      group = new ClassicGroup(p.groupId, this.env);
      this.groups.set(p.groupId, group);
    }
    const err = group.validateOffsetCommit(p.memberId, p.groupInstanceId, p.generationIdOrMemberEpoch);
    if (err !== GroupError.NONE) return all(err);
    const consumerGroup = group instanceof ConsumerGroup && group.members.has(p.memberId) ? group : null;
    // Members of the consumer protocol must commit with v9+ (Kafka: UnsupportedVersionException).
    if (consumerGroup !== null && p.version < 9) return all(ConsumerGroupError.UNSUPPORTED_VERSION);

    const now = this.now();
    const codes: number[] = [];
    const records: KeyValue[] = [];
    const accepted: CommittedOffset[] = [];
    for (const c of p.partitions) {
      const stale =
        consumerGroup === null ? GroupError.NONE : consumerGroup.partitionCommitError(p.memberId, p.generationIdOrMemberEpoch, this.consumer.topics.byName(c.topic)?.id, c.partition);
      if (!this.partitionExists(c.topic, c.partition)) codes.push(GroupError.UNKNOWN_TOPIC_OR_PARTITION);
      else if (stale !== GroupError.NONE) codes.push(stale);
      else if (c.metadata !== null && Buffer.byteLength(c.metadata) > this.config.offsetMetadataMaxBytes) codes.push(GroupError.OFFSET_METADATA_TOO_LARGE);
      else {
        codes.push(GroupError.NONE);
        const value: CommittedOffset = {
          topic: c.topic,
          partition: c.partition,
          offset: c.offset,
          leaderEpoch: c.leaderEpoch,
          metadata: c.metadata ?? "",
          commitTimestamp: now,
          expireTimestamp: p.retentionTimeMs > 0 ? now + p.retentionTimeMs : -1,
        };
        accepted.push(value);
        records.push({ key: encodeOffsetKey(p.groupId, c.topic, c.partition), value: encodeOffsetValue(value) });
      }
    }
    if (records.length === 0) return codes;
    try {
      await this.storage.write(records);
    } catch (e) {
      this.log(`offset commit for group ${p.groupId} failed: ${(e as Error).message}`);
      return codes.map((c) => (c === GroupError.NONE ? GroupError.COORDINATOR_NOT_AVAILABLE : c));
    }
    if (this.groups.get(p.groupId) === group && group.stateName() !== "Dead") {
      for (const v of accepted) this.offsets.put(p.groupId, v);
    }
    return codes;
  }

  /**
   * topics null = every committed offset of the group. `member` (OffsetFetch v9+) is checked
   * against a consumer group's members and epochs (UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH).
   */
  fetchOffsets(
    groupId: string,
    topics: { name: string; partitions: number[] }[] | null,
    member: { memberId: string | null; memberEpoch: number } | null = null,
  ): { errorCode: number; offsets: FetchedOffset[] } {
    if (this.closed) return { errorCode: GroupError.NOT_COORDINATOR, offsets: [] };
    if (groupId === "") return { errorCode: GroupError.INVALID_GROUP_ID, offsets: [] };
    const group = this.groups.get(groupId);
    if (member !== null && group instanceof ConsumerGroup) {
      const err = group.validateOffsetFetch(member.memberId, member.memberEpoch);
      if (err !== GroupError.NONE) return { errorCode: err, offsets: [] };
    }
    if (topics === null) {
      return {
        errorCode: GroupError.NONE,
        offsets: this.offsets.list(groupId).map((c) => ({
          topic: c.topic, partition: c.partition, offset: c.offset, leaderEpoch: c.leaderEpoch, metadata: c.metadata, errorCode: GroupError.NONE,
        })),
      };
    }
    const offsets: FetchedOffset[] = [];
    for (const t of topics) {
      for (const partition of t.partitions) {
        const c = this.offsets.get(groupId, t.name, partition);
        offsets.push(
          c
            ? { topic: t.name, partition, offset: c.offset, leaderEpoch: c.leaderEpoch, metadata: c.metadata, errorCode: GroupError.NONE }
            : { topic: t.name, partition, offset: -1, leaderEpoch: -1, metadata: "", errorCode: GroupError.NONE },
        );
      }
    }
    return { errorCode: GroupError.NONE, offsets };
  }

  /** OffsetDelete: a top-level error, else one code per partition. */
  async deleteOffsets(groupId: string, partitions: { topic: string; partition: number }[]): Promise<{ errorCode: number; codes: number[] }> {
    if (this.closed) return { errorCode: GroupError.NOT_COORDINATOR, codes: [] };
    if (groupId === "") return { errorCode: GroupError.INVALID_GROUP_ID, codes: [] };
    const group = this.groups.get(groupId);
    if (group === undefined || group.stateName() === "Dead") return { errorCode: GroupError.GROUP_ID_NOT_FOUND, codes: [] };
    if (!group.hasNoMembers() && group.protocolTypeName() !== "consumer") return { errorCode: GroupError.NON_EMPTY_GROUP, codes: [] };
    const codes: number[] = [];
    const records: KeyValue[] = [];
    const deleted: { topic: string; partition: number }[] = [];
    for (const tp of partitions) {
      if (!this.partitionExists(tp.topic, tp.partition)) codes.push(GroupError.UNKNOWN_TOPIC_OR_PARTITION);
      else if (group.isSubscribedTo(tp.topic)) codes.push(GroupError.GROUP_SUBSCRIBED_TO_TOPIC);
      else {
        codes.push(GroupError.NONE);
        if (this.offsets.get(groupId, tp.topic, tp.partition)) {
          records.push({ key: encodeOffsetKey(groupId, tp.topic, tp.partition), value: null });
          deleted.push(tp);
        }
      }
    }
    try {
      await this.storage.write(records);
    } catch (e) {
      this.log(`offset delete for group ${groupId} failed: ${(e as Error).message}`);
      return { errorCode: GroupError.COORDINATOR_NOT_AVAILABLE, codes: [] };
    }
    for (const tp of deleted) this.offsets.delete(groupId, tp.topic, tp.partition);
    return { errorCode: GroupError.NONE, codes };
  }

  // ---- admin --------------------------------------------------------------------------------------

  listGroups(statesFilter: readonly string[], typesFilter: readonly string[]): GroupListing[] {
    const states = new Set(statesFilter.map((s) => s.toLowerCase()));
    const types = new Set(typesFilter.map((s) => s.toLowerCase()));
    const out: GroupListing[] = [];
    for (const g of this.groups.values()) {
      const state = g.stateName();
      if (state === "Dead") continue;
      if (states.size > 0 && !states.has(state.toLowerCase())) continue;
      if (types.size > 0 && !types.has(g.type)) continue;
      out.push({ groupId: g.groupId, protocolType: g.protocolTypeName(), state, type: g.type });
    }
    return out;
  }

  describeGroup(groupId: string): GroupDescription {
    const dead: GroupDescription = { errorCode: GroupError.NONE, groupId, state: "Dead", protocolType: "", protocolData: "", members: [] };
    if (this.closed) return { ...dead, errorCode: GroupError.NOT_COORDINATOR };
    if (groupId === "") return { ...dead, errorCode: GroupError.INVALID_GROUP_ID };
    const g = this.groups.get(groupId);
    if (g === undefined) return dead;
    // DescribeGroups v0-5 of a group that is not classic: Dead, no error (Kafka's answer; v6 would say GROUP_ID_NOT_FOUND).
    if (!(g instanceof ClassicGroup)) return dead;
    const stable = g.state === "Stable";
    // Like Kafka: member metadata and assignments (and the protocol) only for a Stable group.
    return {
      errorCode: GroupError.NONE,
      groupId,
      state: g.state,
      protocolType: g.protocolType ?? "",
      protocolData: stable ? (g.protocolName ?? "") : "",
      members: [...g.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        metadata: stable ? m.metadataFor(g.protocolName) : new Uint8Array(0),
        assignment: stable ? m.assignment : new Uint8Array(0),
      })),
    };
  }

  /** One error code per group id, in order. */
  async deleteGroups(groupIds: readonly string[]): Promise<number[]> {
    const codes: number[] = [];
    for (const id of groupIds) codes.push(await this.deleteGroup(id));
    return codes;
  }

  private async deleteGroup(groupId: string): Promise<number> {
    if (this.closed) return GroupError.NOT_COORDINATOR;
    if (groupId === "") return GroupError.INVALID_GROUP_ID;
    const g = this.groups.get(groupId);
    if (g === undefined || g.stateName() === "Dead") return GroupError.GROUP_ID_NOT_FOUND;
    if (!g.hasNoMembers()) return GroupError.NON_EMPTY_GROUP;
    // Dead and out of the registry before the write, so nothing joins or commits meanwhile.
    const records = this.tombstonesFor(groupId);
    if (g instanceof ConsumerGroup) this.consumer.forget(g);
    g.markDead();
    this.groups.delete(groupId);
    this.offsets.deleteGroup(groupId);
    try {
      await this.storage.write(records);
    } catch (e) {
      this.log(`deleting group ${groupId} failed: ${(e as Error).message}`);
      return GroupError.COORDINATOR_NOT_AVAILABLE;
    }
    return GroupError.NONE;
  }

  private tombstonesFor(groupId: string): KeyValue[] {
    const records: KeyValue[] = this.offsets.list(groupId).map((c) => ({ key: encodeOffsetKey(groupId, c.topic, c.partition), value: null }));
    records.push(...this.groupTombstones(groupId));
    return records;
  }

  /** The tombstones of a group's own records (not its offsets). */
  private groupTombstones(groupId: string): KeyValue[] {
    const g = this.groups.get(groupId);
    if (g instanceof ConsumerGroup) return this.consumer.tombstones(g);
    return [{ key: encodeGroupKey(groupId), value: null }];
  }

  // ---- expiry -------------------------------------------------------------------------------------

  /** One sweep of offset expiry and removal of empty groups without offsets. */
  async expireOffsets(): Promise<void> {
    if (this.closed) return;
    const now = this.now();
    const retention = this.config.offsetsRetentionMs;
    const records: KeyValue[] = [];
    const expired: { group: string; topic: string; partition: number }[] = [];
    for (const groupId of [...this.offsets.groups()]) {
      const g = this.groups.get(groupId);
      const empty = g === undefined || g.hasNoMembers();
      for (const c of this.offsets.list(groupId)) {
        let due: boolean;
        if (c.expireTimestamp > 0) due = c.expireTimestamp <= now;
        else if (empty) {
          const base = g !== undefined && g.protocolTypeName() !== "" ? g.stateTimestamp : c.commitTimestamp;
          due = base + retention <= now;
        } else due = g.protocolTypeName() === "consumer" && !g.isSubscribedTo(c.topic) && c.commitTimestamp + retention <= now;
        if (due) {
          records.push({ key: encodeOffsetKey(groupId, c.topic, c.partition), value: null });
          expired.push({ group: groupId, topic: c.topic, partition: c.partition });
        }
      }
    }
    for (const e of expired) this.offsets.delete(e.group, e.topic, e.partition);
    const deadGroups: string[] = [];
    for (const g of this.groups.values()) {
      if (g.hasNoMembers() && g.stateName() === "Empty" && !this.offsets.hasOffsets(g.groupId)) deadGroups.push(g.groupId);
    }
    for (const id of deadGroups) {
      records.push(...this.groupTombstones(id));
      this.groups.get(id)!.markDead();
      this.groups.delete(id);
    }
    if (records.length === 0) return;
    await this.storage.write(records);
    this.log(`expired ${expired.length} offsets and ${deadGroups.length} empty groups`);
  }

  // ---- persistence --------------------------------------------------------------------------------

  private async storeGroup(groupId: string, value: GroupValue): Promise<void> {
    await this.storage.write([{ key: encodeGroupKey(groupId), value: encodeGroupValue(value) }]);
  }

  private replay(): void {
    const groupValues = new Map<string, GroupValue>();
    const consumerGroups = new Map<string, { value?: Uint8Array; members: Map<string, Uint8Array> }>();
    const consumerEntry = (id: string) => {
      let e = consumerGroups.get(id);
      if (!e) consumerGroups.set(id, (e = { members: new Map() }));
      return e;
    };
    let offsets = 0;
    for (const { key, value } of this.storage.entries()) {
      const k = decodeKey(key);
      if (k === null) continue; // a record type of a later version
      if (k.type === OFFSET_KEY_TYPE) {
        this.offsets.put(k.group, { topic: k.topic, partition: k.partition, ...decodeOffsetValue(value) });
        offsets++;
      } else if (k.type === GROUP_KEY_TYPE) {
        groupValues.set(k.group, decodeGroupValue(value));
      } else if (k.type === CONSUMER_GROUP_KEY_TYPE) {
        consumerEntry(k.group).value = value;
      } else if (k.type === CONSUMER_MEMBER_KEY_TYPE) {
        consumerEntry(k.group).members.set(k.memberId, value);
      }
    }
    for (const [id, v] of groupValues) this.groups.set(id, ClassicGroup.restore(id, v, this.env));
    for (const [id, e] of consumerGroups) {
      if (this.groups.has(id)) {
        this.log(`group log: ${id} has both classic and consumer group records; keeping the classic group`);
        continue;
      }
      this.groups.set(id, this.consumer.restore(id, e.value, e.members));
    }
    for (const id of this.offsets.groups()) {
      if (!this.groups.has(id)) this.groups.set(id, new ClassicGroup(id, this.env));
    }
    if (this.groups.size > 0) this.log(`group log: loaded ${this.groups.size} groups and ${offsets} committed offsets`);
  }
}
