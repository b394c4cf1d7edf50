/**
 * A KIP-848 consumer group (ConsumerGroupHeartbeat): the members, the group epoch (bumped by any
 * change of membership, subscriptions or subscribed topic metadata), the target assignment and its
 * epoch, and which member holds which partition. The heartbeat logic that drives it is in
 * consumer-heartbeat.ts; reconciliation of one member is in consumer-member.ts.
 *
 * States, as Kafka names them: Empty (no members), Assigning (group epoch ahead of the assignment
 * epoch), Reconciling (some member not yet at the target), Stable, Dead (deleted).
 */
import { GroupError } from "./errors.ts";
import type { Group } from "./group.ts";
import { ConsumerGroupError } from "./consumer-errors.ts";
import type { ConsumerMember } from "./consumer-member.ts";
import { eachPartition, partitionKey, type TopicPartitions } from "./topic-partitions.ts";
import type { TopicView } from "./topic-view.ts";

export class ConsumerGroup implements Group {
  readonly type = "consumer" as const;
  groupEpoch = 0;
  assignmentEpoch = 0;
  stateTimestamp: number;
  /** Subscribed topics as "name:id:partitions" lines, sorted; a change bumps the group epoch. */
  subscriptionFingerprint = "";
  readonly members = new Map<string, ConsumerMember>();
  /** group.instance.id → member id. */
  readonly staticMembers = new Map<string, string>();
  /** Target assignment by member id. */
  readonly target = new Map<string, TopicPartitions>();
  /** "topicId:partition" → member id holding it (assigned or pending revocation). */
  private readonly owners = new Map<string, string>();
  private readonly held = new Map<string, string[]>();
  /** Last value written to the group log per member (to write only what changed). */
  readonly persisted = new Map<string, Uint8Array>();
  private dead = false;

  constructor(
    readonly groupId: string,
    now: number,
  ) {
    this.stateTimestamp = now;
  }

  // ---- Group interface --------------------------------------------------------------------------

  stateName(): string {
    if (this.dead) return "Dead";
    if (this.members.size === 0) return "Empty";
    if (this.groupEpoch > this.assignmentEpoch) return "Assigning";
    for (const m of this.members.values()) if (!m.isReconciledTo(this.assignmentEpoch)) return "Reconciling";
    return "Stable";
  }

  protocolTypeName(): string {
    return "consumer";
  }

  hasNoMembers(): boolean {
    return this.members.size === 0;
  }

  isDead(): boolean {
    return this.dead;
  }

  /**
   * Kafka's ConsumerGroup.validateOffsetCommit: admin commits (negative epoch) only into an empty
   * group; otherwise a known member whose epoch is not ahead of the coordinator's. An older epoch
   * is checked per partition (KIP-1251, `partitionCommitError`).
   */
  validateOffsetCommit(memberId: string, _groupInstanceId: string | null, memberEpoch: number): number {
    if (this.dead) return GroupError.COORDINATOR_NOT_AVAILABLE;
    if (memberEpoch < 0 && this.members.size === 0) return GroupError.NONE;
    const m = this.members.get(memberId);
    if (m === undefined) return GroupError.UNKNOWN_MEMBER_ID;
    if (memberEpoch > m.memberEpoch) return ConsumerGroupError.STALE_MEMBER_EPOCH;
    return GroupError.NONE;
  }

  /** KIP-1251: a commit with an older epoch is fine for a partition the member held since then. */
  partitionCommitError(memberId: string, memberEpoch: number, topicId: string | undefined, partition: number): number {
    const m = this.members.get(memberId);
    if (m === undefined || memberEpoch < 0 || memberEpoch >= m.memberEpoch) return GroupError.NONE;
    if (topicId === undefined) return ConsumerGroupError.STALE_MEMBER_EPOCH;
    const at = m.assignedAt.get(partitionKey(topicId, partition));
    return at !== undefined && at <= memberEpoch ? GroupError.NONE : ConsumerGroupError.STALE_MEMBER_EPOCH;
  }

  /** OffsetFetch v9+: the admin form (no member id, negative epoch) or a member at its epoch. */
  validateOffsetFetch(memberId: string | null, memberEpoch: number): number {
    if (memberId === null && memberEpoch < 0) return GroupError.NONE;
    const m = this.members.get(memberId ?? "");
    if (m === undefined) return GroupError.UNKNOWN_MEMBER_ID;
    if (memberEpoch !== m.memberEpoch) return ConsumerGroupError.STALE_MEMBER_EPOCH;
    return GroupError.NONE;
  }

  isSubscribedTo(topic: string): boolean {
    for (const m of this.members.values()) {
      if (m.subscribedTopicNames.includes(topic)) return true;
      if (m.subscribedTopicRegex !== null && compileRegex(m.subscribedTopicRegex)?.test(topic)) return true;
    }
    return false;
  }

  markDead(): void {
    this.dead = true;
  }

  // ---- membership -------------------------------------------------------------------------------

  putMember(m: ConsumerMember): void {
    this.members.set(m.memberId, m);
    if (m.instanceId !== null) this.staticMembers.set(m.instanceId, m.memberId);
    this.refreshOwnership(m);
  }

  dropMember(memberId: string): ConsumerMember | undefined {
    const m = this.members.get(memberId);
    if (m === undefined) return undefined;
    this.members.delete(memberId);
    this.target.delete(memberId);
    this.persisted.delete(memberId);
    if (m.instanceId !== null && this.staticMembers.get(m.instanceId) === memberId) this.staticMembers.delete(m.instanceId);
    for (const key of this.held.get(memberId) ?? []) if (this.owners.get(key) === memberId) this.owners.delete(key);
    this.held.delete(memberId);
    return m;
  }

  staticMember(instanceId: string): ConsumerMember | undefined {
    const id = this.staticMembers.get(instanceId);
    return id === undefined ? undefined : this.members.get(id);
  }

  /** Re-indexes the partitions a member holds after its assignment changed. */
  refreshOwnership(m: ConsumerMember): void {
    for (const key of this.held.get(m.memberId) ?? []) if (this.owners.get(key) === m.memberId) this.owners.delete(key);
    const keys: string[] = [];
    for (const [t, p] of eachPartition(m.assigned)) keys.push(partitionKey(t, p));
    for (const [t, p] of eachPartition(m.pendingRevocation)) keys.push(partitionKey(t, p));
    for (const key of keys) this.owners.set(key, m.memberId);
    this.held.set(m.memberId, keys);
  }

  ownerOf(topicId: string, partition: number): string | null {
    return this.owners.get(partitionKey(topicId, partition)) ?? null;
  }

  /** Names of the existing topics some member subscribes to (by name or regex). */
  subscribedTopics(topics: TopicView): Set<string> {
    const out = new Set<string>();
    let regexes: RegExp[] | null = null;
    for (const m of this.members.values()) {
      for (const t of m.subscribedTopicNames) if (topics.byName(t)) out.add(t);
      if (m.subscribedTopicRegex !== null) {
        const re = compileRegex(m.subscribedTopicRegex);
        if (re) (regexes ??= []).push(re);
      }
    }
    if (regexes !== null) for (const name of topics.names()) if (regexes.some((re) => re.test(name))) out.add(name);
    return out;
  }

  /** The topic names one member subscribes to (names that exist, plus regex matches). */
  memberTopics(m: ConsumerMember, topics: TopicView): Set<string> {
    const out = new Set<string>();
    for (const t of m.subscribedTopicNames) if (topics.byName(t)) out.add(t);
    const re = m.subscribedTopicRegex === null ? null : compileRegex(m.subscribedTopicRegex);
    if (re) for (const name of topics.names()) if (re.test(name)) out.add(name);
    return out;
  }
}

const regexCache = new Map<string, RegExp | null>();

/**
 * A subscription regex as a whole-name match (Kafka matches the full topic name with RE2J; the
 * JavaScript dialect agrees on the common syntax). null when it does not compile.
 */
export function compileRegex(source: string): RegExp | null {
  let re = regexCache.get(source);
  if (re === undefined) {
    try {
      re = new RegExp(`^(?:${source})$`);
    } catch {
      re = null;
    }
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(source, re);
  }
  return re;
}
