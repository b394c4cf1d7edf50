/**
 * KIP-848 group membership: ConsumerGroupHeartbeat and ConsumerGroupDescribe on top of
 * ConsumerGroup, following Kafka's GroupMetadataManager:
 *
 * 1. validate the request (INVALID_REQUEST with Kafka's messages, UNSUPPORTED_ASSIGNOR,
 *    INVALID_REGULAR_EXPRESSION);
 * 2. find or create the group (epoch 0 may create it, or take over an empty classic group whose
 *    offsets it keeps; a non-empty classic group answers GROUP_ID_NOT_FOUND, as Kafka without
 *    online migration) and the member (static members by instance id: UNRELEASED_INSTANCE_ID while
 *    the old instance has not left with epoch -2, FENCED_INSTANCE_ID for a replaced id; dynamic
 *    members: UNKNOWN_MEMBER_ID, FENCED_MEMBER_EPOCH unless the epoch is the previous one and the
 *    owned partitions are a subset of the assignment — the response carrying the bump was lost);
 * 3. apply subscription changes; bump the group epoch on a new member, a subscription or assignor
 *    change, or a change in the subscribed topics' ids or partition counts;
 * 4. compute a new target assignment when the group epoch is ahead of the assignment epoch;
 * 5. reconcile the member (revoke first, assign only partitions nobody else holds);
 * 6. write what changed to the group log and answer once it is durable.
 *
 * A leave (epoch -1) removes the member and bumps the group epoch; a static leave (-2) keeps the
 * member and its partitions until its session times out or its instance rejoins. Session timeouts
 * (`group.consumer.session.timeout.ms`) remove members; a member that does not revoke within its
 * rebalance timeout is removed too. Other members learn about a new target on their next
 * heartbeat, as in Kafka.
 */
import { randomUUID } from "node:crypto";
import { SERVER_ASSIGNORS, type AssignorMember, type AssignorTopic } from "./assignors/index.ts";
import type { KeyValue } from "./compacted-log.ts";
import { ConsumerGroupError } from "./consumer-errors.ts";
import { ConsumerGroup, compileRegex } from "./consumer-group.ts";
import { ConsumerMember, LEAVE_GROUP_MEMBER_EPOCH, LEAVE_GROUP_STATIC_MEMBER_EPOCH } from "./consumer-member.ts";
import { decodeConsumerGroupValue, decodeConsumerMemberValue, encodeConsumerGroupValue, encodeConsumerMemberValue } from "./consumer-record-codec.ts";
import type { DeadlineScheduler } from "./deadlines.ts";
import { GroupError } from "./errors.ts";
import type { Group } from "./group.ts";
import { encodeConsumerGroupKey, encodeConsumerMemberKey, encodeGroupKey } from "./record-codec.ts";
import { fromWire, isSubset, partitionsEqual, toWire, type TopicPartitions, type WireTopicPartitions } from "./topic-partitions.ts";
import { NO_TOPICS, type TopicView } from "./topic-view.ts";

export interface ConsumerGroupSettings {
  heartbeatIntervalMs: number;
  sessionTimeoutMs: number;
  /** Offered server assignors; the first is the default. */
  assignors: string[];
}

export const DEFAULT_CONSUMER_GROUP_SETTINGS: ConsumerGroupSettings = { heartbeatIntervalMs: 5000, sessionTimeoutMs: 45_000, assignors: ["uniform", "range"] };

export interface HeartbeatParams {
  apiVersion: number;
  groupId: string;
  memberId: string;
  memberEpoch: number;
  instanceId: string | null;
  rackId: string | null;
  rebalanceTimeoutMs: number;
  subscribedTopicNames: string[] | null;
  subscribedTopicRegex: string | null;
  serverAssignor: string | null;
  topicPartitions: WireTopicPartitions[] | null;
  clientId: string;
  clientHost: string;
}

export interface HeartbeatResult {
  errorCode: number;
  errorMessage: string | null;
  memberId: string | null;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: WireTopicPartitions[] | null;
}

export interface DescribedPartitions {
  topicId: string;
  topicName: string;
  partitions: number[];
}

export interface ConsumerGroupDescription {
  errorCode: number;
  errorMessage: string | null;
  groupId: string;
  groupState: string;
  groupEpoch: number;
  assignmentEpoch: number;
  assignorName: string;
  members: {
    memberId: string;
    instanceId: string | null;
    rackId: string | null;
    memberEpoch: number;
    clientId: string;
    clientHost: string;
    subscribedTopicNames: string[];
    subscribedTopicRegex: string | null;
    assignment: DescribedPartitions[];
    targetAssignment: DescribedPartitions[];
  }[];
}

/** What the service needs from the coordinator. */
export interface ConsumerGroupsHost {
  readonly groups: Map<string, Group>;
  readonly scheduler: DeadlineScheduler;
  now(): number;
  write(records: KeyValue[]): Promise<void>;
  log(msg: string): void;
  isClosed(): boolean;
}

class HeartbeatFailure extends Error {
  constructor(
    readonly code: number,
    message: string | null = null,
  ) {
    super(message ?? `error ${code}`);
  }
}

const fail = (code: number, message: string | null = null): never => {
  throw new HeartbeatFailure(code, message);
};

export class ConsumerGroupService {
  settings: ConsumerGroupSettings = DEFAULT_CONSUMER_GROUP_SETTINGS;
  topics: TopicView = NO_TOPICS;

  constructor(private readonly host: ConsumerGroupsHost) {}

  // ---- ConsumerGroupHeartbeat ---------------------------------------------------------------------

  async heartbeat(p: HeartbeatParams): Promise<HeartbeatResult> {
    const records: KeyValue[] = [];
    let result: HeartbeatResult;
    try {
      this.validate(p);
      if (this.host.isClosed()) fail(GroupError.NOT_COORDINATOR);
      result = p.memberEpoch < 0 ? this.leave(p, records) : this.joinOrHeartbeat(p, records);
    } catch (e) {
      if (!(e instanceof HeartbeatFailure)) throw e;
      return { errorCode: e.code, errorMessage: e.message.startsWith("error ") ? null : e.message, memberId: null, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null };
    }
    if (records.length > 0) {
      try {
        await this.host.write(records);
      } catch (e) {
        this.host.log(`consumer group ${p.groupId}: writing the group log failed: ${(e as Error).message}`);
        return { errorCode: GroupError.COORDINATOR_NOT_AVAILABLE, errorMessage: null, memberId: null, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null };
      }
    }
    return result;
  }

  private validate(p: HeartbeatParams): void {
    const invalid = (msg: string) => fail(GroupError.INVALID_REQUEST, msg);
    if ((p.apiVersion >= 1 || p.memberEpoch > 0 || p.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH) && p.memberId === "") invalid("MemberId can't be empty.");
    if (p.groupId === "") invalid("GroupId can't be empty.");
    if (p.instanceId === "") invalid("InstanceId can't be empty.");
    if (p.rackId === "") invalid("RackId can't be empty.");
    if (p.memberEpoch === 0) {
      if (p.rebalanceTimeoutMs === -1) invalid("RebalanceTimeoutMs must be provided in first request.");
      if (p.topicPartitions === null || p.topicPartitions.length > 0) invalid("TopicPartitions must be empty when (re-)joining.");
      if (p.subscribedTopicNames === null && p.subscribedTopicRegex === null) {
        invalid("Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.");
      }
    } else if (p.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      if (p.instanceId === null) invalid("InstanceId can't be null.");
    } else if (p.memberEpoch < LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      invalid("MemberEpoch is invalid.");
    }
    if (p.serverAssignor !== null && !this.settings.assignors.includes(p.serverAssignor)) {
      fail(ConsumerGroupError.UNSUPPORTED_ASSIGNOR, `ServerAssignor ${p.serverAssignor} is not supported. Supported assignors: ${this.settings.assignors.join(", ")}.`);
    }
    if (p.subscribedTopicRegex !== null && p.subscribedTopicRegex !== "" && compileRegex(p.subscribedTopicRegex) === null) {
      fail(ConsumerGroupError.INVALID_REGULAR_EXPRESSION, `SubscribedTopicRegex \`${p.subscribedTopicRegex}\` is not a valid regular expression.`);
    }
  }

  private consumerGroup(groupId: string, create: boolean, records: KeyValue[]): ConsumerGroup {
    const g = this.host.groups.get(groupId);
    if (g instanceof ConsumerGroup && !g.isDead()) return g;
    if (g !== undefined && !(g instanceof ConsumerGroup)) {
      // An empty classic group (or one that only holds offsets) becomes a consumer group, as in Kafka.
      if (!create || !g.hasNoMembers()) fail(GroupError.GROUP_ID_NOT_FOUND, `Group ${groupId} is not a consumer group.`);
      g.markDead();
      records.push({ key: encodeGroupKey(groupId), value: null });
    } else if (!create) {
      fail(GroupError.GROUP_ID_NOT_FOUND, `Consumer group ${groupId} not found.`);
    }
    const created = new ConsumerGroup(groupId, this.host.now());
    this.host.groups.set(groupId, created);
    return created;
  }

  private leave(p: HeartbeatParams, records: KeyValue[]): HeartbeatResult {
    const group = this.consumerGroup(p.groupId, false, records);
    let member: ConsumerMember | undefined;
    if (p.instanceId === null) {
      member = group.members.get(p.memberId) ?? fail(GroupError.UNKNOWN_MEMBER_ID, `Member ${p.memberId} is not a member of group ${p.groupId}.`);
    } else {
      member = group.staticMember(p.instanceId) ?? fail(GroupError.UNKNOWN_MEMBER_ID, `Instance id ${p.instanceId} is unknown.`);
      if (member.memberId !== p.memberId) fail(GroupError.FENCED_INSTANCE_ID, `Static member ${p.memberId} with instance id ${p.instanceId} was fenced by member ${member.memberId}.`);
    }
    this.host.log(`consumer group ${group.groupId}: member ${member.memberId} left${p.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH ? " (static, may come back)" : ""}`);
    if (p.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      // Temporary leave: keeps its partitions (nobody else gets them) until the session expires.
      member.memberEpoch = LEAVE_GROUP_STATIC_MEMBER_EPOCH;
      this.host.scheduler.cancel(this.timerKey(group, member.memberId, "revoke"));
      this.collect(group, [member.memberId], false, records);
    } else {
      this.removeMember(group, member.memberId, records);
    }
    return { errorCode: GroupError.NONE, errorMessage: null, memberId: p.memberId, memberEpoch: p.memberEpoch, heartbeatIntervalMs: 0, assignment: null };
  }

  private joinOrHeartbeat(p: HeartbeatParams, records: KeyValue[]): HeartbeatResult {
    const group = this.consumerGroup(p.groupId, p.memberEpoch === 0, records);
    const memberId = p.memberId === "" ? randomUUID() : p.memberId;
    const owned = p.topicPartitions === null ? null : fromWire(p.topicPartitions);
    const touched = new Set<string>([memberId]);
    let member: ConsumerMember;
    let isNew = false;
    const existingById = group.members.get(memberId);
    if (p.instanceId !== null) {
      const existing = group.staticMember(p.instanceId);
      if (p.memberEpoch === 0) {
        if (existing === undefined) {
          isNew = existingById === undefined;
          member = existingById ?? new ConsumerMember(memberId);
          if (!isNew) this.rejoin(group, member);
        } else if (existing.memberId === memberId) {
          member = existing;
          this.rejoin(group, member);
        } else {
          if (existing.memberEpoch !== LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
            fail(ConsumerGroupError.UNRELEASED_INSTANCE_ID, `Static member ${memberId} with instance id ${p.instanceId} cannot join the group because the instance id is owned by ${existing.memberId} member.`);
          }
          // The new incarnation takes over the old one's partitions and target, at epoch 0.
          member = existing.copyAs(memberId);
          member.memberEpoch = 0;
          member.previousMemberEpoch = 0;
          const target = group.target.get(existing.memberId);
          this.removeMember(group, existing.memberId, records, false);
          if (target) group.target.set(memberId, target);
          group.putMember(member);
        }
      } else {
        member = existing ?? fail(GroupError.UNKNOWN_MEMBER_ID, `Instance id ${p.instanceId} is unknown.`);
        if (member.memberId !== memberId) fail(GroupError.FENCED_INSTANCE_ID, `Static member ${memberId} with instance id ${p.instanceId} was fenced by member ${member.memberId}.`);
        this.checkEpoch(member, p.memberEpoch, owned);
      }
    } else if (existingById === undefined) {
      if (p.memberEpoch !== 0) fail(GroupError.UNKNOWN_MEMBER_ID, `Member ${memberId} is not a member of group ${p.groupId}.`);
      member = new ConsumerMember(memberId);
      isNew = true;
    } else {
      member = existingById;
      if (p.memberEpoch === 0) this.rejoin(group, member);
      else this.checkEpoch(member, p.memberEpoch, owned);
    }

    // 3. Subscription.
    const before = subscriptionOf(member);
    if (p.instanceId !== null) member.instanceId = p.instanceId;
    if (p.rackId !== null) member.rackId = p.rackId;
    if (p.rebalanceTimeoutMs !== -1) member.rebalanceTimeoutMs = p.rebalanceTimeoutMs;
    if (p.serverAssignor !== null) member.serverAssignor = p.serverAssignor;
    if (p.subscribedTopicNames !== null) member.subscribedTopicNames = [...p.subscribedTopicNames];
    if (p.subscribedTopicRegex !== null) member.subscribedTopicRegex = p.subscribedTopicRegex === "" ? null : p.subscribedTopicRegex;
    member.clientId = p.clientId;
    member.clientHost = p.clientHost;
    if (isNew) group.putMember(member);
    let why = isNew ? `member ${memberId} joined` : subscriptionOf(member) !== before ? `member ${memberId} changed its subscription` : null;
    const fingerprint = this.fingerprint(group);
    if (fingerprint !== group.subscriptionFingerprint) {
      group.subscriptionFingerprint = fingerprint;
      why ??= "subscribed topics changed";
    }
    const bump = why !== null;
    if (bump) {
      group.groupEpoch++;
      this.host.log(`consumer group ${group.groupId}: epoch ${group.groupEpoch} (${why})`);
    }

    // 4. Target assignment.
    let groupChanged = bump;
    if (group.groupEpoch > group.assignmentEpoch) {
      this.computeTarget(group);
      group.assignmentEpoch = group.groupEpoch;
      for (const id of group.members.keys()) touched.add(id);
      groupChanged = true;
    }

    // 5. Reconciliation of this member.
    const assignedBefore = member.assigned;
    member.reconcile(group.assignmentEpoch, group.target.get(memberId) ?? new Map(), owned, (t, q) => group.ownerOf(t, q));
    group.refreshOwnership(member);
    this.scheduleTimers(group, member);
    this.collect(group, [...touched], groupChanged, records);

    const full = p.memberEpoch === 0 || (p.rebalanceTimeoutMs !== -1 && (p.subscribedTopicNames !== null || p.subscribedTopicRegex !== null) && owned !== null);
    return {
      errorCode: GroupError.NONE,
      errorMessage: null,
      memberId,
      memberEpoch: member.memberEpoch,
      heartbeatIntervalMs: this.settings.heartbeatIntervalMs,
      assignment: full || !partitionsEqual(assignedBefore, member.assigned) ? toWire(member.assigned) : null,
    };
  }

  /** Epoch 0 from a known member: it gave up everything it held and starts over. */
  private rejoin(group: ConsumerGroup, member: ConsumerMember): void {
    member.resetAssignment();
    group.refreshOwnership(member);
    this.host.scheduler.cancel(this.timerKey(group, member.memberId, "revoke"));
  }

  private checkEpoch(member: ConsumerMember, received: number, owned: TopicPartitions | null): void {
    const fenced = () =>
      fail(ConsumerGroupError.FENCED_MEMBER_EPOCH, `The consumer group member has a ${received > member.memberEpoch ? "greater" : "smaller"} member epoch (${received}) than the one known by the group coordinator (${member.memberEpoch}). The member must abandon all its partitions and rejoin.`);
    if (received > member.memberEpoch) fenced();
    if (received < member.memberEpoch && (received !== member.previousMemberEpoch || owned === null || !isSubset(owned, member.assigned))) fenced();
  }

  /** Subscribed topics with their ids and partition counts; a change means a new assignment. */
  private fingerprint(group: ConsumerGroup): string {
    const lines: string[] = [];
    for (const name of group.subscribedTopics(this.topics)) {
      const t = this.topics.byName(name)!;
      lines.push(`${name}:${t.id}:${t.partitions}`);
    }
    return lines.sort().join("\n");
  }

  /** The assignor: the one most members ask for, else the configured default. */
  preferredAssignor(group: ConsumerGroup): string {
    const votes = new Map<string, number>();
    for (const m of group.members.values()) if (m.serverAssignor !== null) votes.set(m.serverAssignor, (votes.get(m.serverAssignor) ?? 0) + 1);
    let best = this.settings.assignors[0]!;
    let bestVotes = 0;
    for (const name of this.settings.assignors) {
      const v = votes.get(name) ?? 0;
      if (v > bestVotes) [best, bestVotes] = [name, v];
    }
    return best;
  }

  private computeTarget(group: ConsumerGroup): void {
    const assignor = SERVER_ASSIGNORS.get(this.preferredAssignor(group))!;
    const topics = new Map<string, AssignorTopic>();
    const members: AssignorMember[] = [];
    for (const m of group.members.values()) {
      const ids = new Set<string>();
      for (const name of group.memberTopics(m, this.topics)) {
        const t = this.topics.byName(name)!;
        topics.set(t.id, { id: t.id, name: t.name, partitions: t.partitions });
        ids.add(t.id);
      }
      members.push({ memberId: m.memberId, instanceId: m.instanceId, rackId: m.rackId, subscribedTopicIds: ids, previous: group.target.get(m.memberId) ?? new Map() });
    }
    const target = assignor.assign(members, topics);
    group.target.clear();
    for (const [id, tp] of target) group.target.set(id, tp);
  }

  // ---- removal, timers ------------------------------------------------------------------------------

  /** Removes a member; `bump` (default) starts a new assignment for the others. */
  private removeMember(group: ConsumerGroup, memberId: string, records: KeyValue[], bump = true): void {
    const m = group.dropMember(memberId);
    if (m === undefined) return;
    this.host.scheduler.cancel(this.timerKey(group, memberId, "session"));
    this.host.scheduler.cancel(this.timerKey(group, memberId, "revoke"));
    records.push({ key: encodeConsumerMemberKey(group.groupId, memberId), value: null });
    if (bump) group.groupEpoch++;
    if (group.members.size === 0) group.stateTimestamp = this.host.now();
    records.push(this.groupRecord(group));
  }

  private scheduleTimers(group: ConsumerGroup, member: ConsumerMember): void {
    const id = member.memberId;
    this.host.scheduler.set(this.timerKey(group, id, "session"), this.host.now() + this.settings.sessionTimeoutMs, () => this.expire(group, id, "session timeout"));
    const revokeKey = this.timerKey(group, id, "revoke");
    if (member.state !== "unrevoked") this.host.scheduler.cancel(revokeKey);
    else if (!this.host.scheduler.has(revokeKey)) {
      const epoch = member.memberEpoch;
      this.host.scheduler.set(revokeKey, this.host.now() + member.rebalanceTimeoutMs, () => {
        const m = group.members.get(id);
        if (m !== undefined && m.state === "unrevoked" && m.memberEpoch === epoch) this.expire(group, id, "rebalance timeout (partitions not revoked)");
      });
    }
  }

  private timerKey(group: ConsumerGroup, memberId: string, kind: "session" | "revoke"): string {
    return `cg\u0000${group.groupId}\u0000${memberId}\u0000${kind}`;
  }

  private expire(group: ConsumerGroup, memberId: string, why: string): void {
    if (this.host.groups.get(group.groupId) !== group || !group.members.has(memberId)) return;
    this.host.log(`consumer group ${group.groupId}: member ${memberId} removed (${why})`);
    const records: KeyValue[] = [];
    this.removeMember(group, memberId, records);
    void this.host.write(records).catch((e) => this.host.log(`consumer group ${group.groupId}: writing the group log failed: ${(e as Error).message}`));
  }

  // ---- persistence ----------------------------------------------------------------------------------

  private groupRecord(group: ConsumerGroup): KeyValue {
    return {
      key: encodeConsumerGroupKey(group.groupId),
      value: encodeConsumerGroupValue({
        groupEpoch: group.groupEpoch,
        assignmentEpoch: group.assignmentEpoch,
        stateTimestamp: group.stateTimestamp,
        subscriptionFingerprint: group.subscriptionFingerprint,
      }),
    };
  }

  /** Records for the members whose stored value changed (and the group record if asked). */
  private collect(group: ConsumerGroup, memberIds: string[], groupChanged: boolean, records: KeyValue[]): void {
    for (const id of memberIds) {
      const m = group.members.get(id);
      if (m === undefined) continue;
      const value = encodeConsumerMemberValue(m, group.target.get(id) ?? new Map());
      const old = group.persisted.get(id);
      if (old !== undefined && Buffer.from(old).equals(value)) continue;
      group.persisted.set(id, value);
      records.push({ key: encodeConsumerMemberKey(group.groupId, id), value });
    }
    if (groupChanged) records.push(this.groupRecord(group));
  }

  /** Everything to delete when the group goes (DeleteGroups, expiry, conversion to classic). */
  tombstones(group: ConsumerGroup): KeyValue[] {
    const out: KeyValue[] = [...group.members.keys()].map((id) => ({ key: encodeConsumerMemberKey(group.groupId, id), value: null }));
    out.push({ key: encodeConsumerGroupKey(group.groupId), value: null });
    return out;
  }

  /** Cancels the timers of a group that is going away. */
  forget(group: ConsumerGroup): void {
    for (const id of group.members.keys()) {
      this.host.scheduler.cancel(this.timerKey(group, id, "session"));
      this.host.scheduler.cancel(this.timerKey(group, id, "revoke"));
    }
  }

  /** Rebuilds a group from its records at startup; members get a fresh session timeout. */
  restore(groupId: string, groupValue: Uint8Array | undefined, members: Map<string, Uint8Array>): ConsumerGroup {
    const group = new ConsumerGroup(groupId, this.host.now());
    if (groupValue !== undefined) {
      const v = decodeConsumerGroupValue(groupValue);
      group.groupEpoch = v.groupEpoch;
      group.assignmentEpoch = v.assignmentEpoch;
      group.stateTimestamp = v.stateTimestamp;
      group.subscriptionFingerprint = v.subscriptionFingerprint;
    }
    for (const [memberId, bytes] of members) {
      const { member, target } = decodeConsumerMemberValue(memberId, bytes);
      group.putMember(member);
      group.target.set(memberId, target);
      group.persisted.set(memberId, bytes);
    }
    for (const m of group.members.values()) this.scheduleTimers(group, m);
    return group;
  }

  // ---- ConsumerGroupDescribe ------------------------------------------------------------------------

  describe(groupId: string): ConsumerGroupDescription {
    const base: ConsumerGroupDescription = { errorCode: GroupError.NONE, errorMessage: null, groupId, groupState: "", groupEpoch: 0, assignmentEpoch: 0, assignorName: "", members: [] };
    if (this.host.isClosed()) return { ...base, errorCode: GroupError.NOT_COORDINATOR };
    if (groupId === "") return { ...base, errorCode: GroupError.INVALID_GROUP_ID };
    const g = this.host.groups.get(groupId);
    if (g === undefined || g.stateName() === "Dead") return { ...base, errorCode: GroupError.GROUP_ID_NOT_FOUND, errorMessage: `Group ${groupId} not found.` };
    if (!(g instanceof ConsumerGroup)) return { ...base, errorCode: GroupError.GROUP_ID_NOT_FOUND, errorMessage: `Group ${groupId} is not a consumer group.` };
    const named = (tp: TopicPartitions): DescribedPartitions[] =>
      toWire(tp).map((t) => ({ topicId: t.topicId, topicName: this.topics.byId(t.topicId)?.name ?? "", partitions: t.partitions }));
    return {
      ...base,
      groupState: g.stateName(),
      groupEpoch: g.groupEpoch,
      assignmentEpoch: g.assignmentEpoch,
      assignorName: this.preferredAssignor(g),
      members: [...g.members.values()].map((m) => ({
        memberId: m.memberId,
        instanceId: m.instanceId,
        rackId: m.rackId,
        memberEpoch: m.memberEpoch,
        clientId: m.clientId,
        clientHost: m.clientHost,
        subscribedTopicNames: [...m.subscribedTopicNames],
        subscribedTopicRegex: m.subscribedTopicRegex,
        assignment: named(m.assigned),
        targetAssignment: named(g.target.get(m.memberId) ?? new Map()),
      })),
    };
  }
}

function subscriptionOf(m: ConsumerMember): string {
  return JSON.stringify([m.subscribedTopicNames, m.subscribedTopicRegex, m.serverAssignor, m.rackId]);
}
