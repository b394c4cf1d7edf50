/**
 * One member of a KIP-848 consumer group and its reconciliation towards the target assignment
 * (Kafka's CurrentAssignmentBuilder):
 *
 * - `stable`: the member holds its target at the target epoch, or waits for nothing.
 * - `unrevoked`: the member must first give up `pendingRevocation`; it keeps its epoch until a
 *   heartbeat's owned partitions show none of them (then it moves to the target epoch).
 * - `unreleased`: the member is at the target epoch but some of its target partitions are still
 *   held (assigned or pending revocation) by other members; they are added once released.
 *
 * A partition is never assigned to two members at once: a member only receives partitions that no
 * other member holds (the `ownerOf` callback), so "revoke before assign" holds across the group.
 */
import {
  addPartition,
  clonePartitions,
  eachPartition,
  intersects,
  partitionKey,
  type TopicPartitions,
} from "./topic-partitions.ts";

export type MemberState = "stable" | "unrevoked" | "unreleased";

export const LEAVE_GROUP_MEMBER_EPOCH = -1;
export const LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2;

export class ConsumerMember {
  instanceId: string | null = null;
  rackId: string | null = null;
  clientId = "";
  clientHost = "";
  rebalanceTimeoutMs = 300_000;
  serverAssignor: string | null = null;
  subscribedTopicNames: string[] = [];
  subscribedTopicRegex: string | null = null;
  memberEpoch = 0;
  previousMemberEpoch = 0;
  state: MemberState = "stable";
  assigned: TopicPartitions = new Map();
  pendingRevocation: TopicPartitions = new Map();
  /** KIP-1251: the member epoch at which each held partition ("topicId:partition") was assigned. */
  assignedAt = new Map<string, number>();

  constructor(readonly memberId: string) {}

  /** A copy under another member id (static member replacement). */
  copyAs(memberId: string): ConsumerMember {
    const m = new ConsumerMember(memberId);
    m.instanceId = this.instanceId;
    m.rackId = this.rackId;
    m.clientId = this.clientId;
    m.clientHost = this.clientHost;
    m.rebalanceTimeoutMs = this.rebalanceTimeoutMs;
    m.serverAssignor = this.serverAssignor;
    m.subscribedTopicNames = [...this.subscribedTopicNames];
    m.subscribedTopicRegex = this.subscribedTopicRegex;
    m.memberEpoch = this.memberEpoch;
    m.previousMemberEpoch = this.previousMemberEpoch;
    m.state = this.state;
    m.assigned = clonePartitions(this.assigned);
    m.pendingRevocation = clonePartitions(this.pendingRevocation);
    m.assignedAt = new Map(this.assignedAt);
    return m;
  }

  isReconciledTo(targetEpoch: number): boolean {
    return this.state === "stable" && this.memberEpoch === targetEpoch;
  }

  private moveToEpoch(epoch: number): void {
    if (epoch !== this.memberEpoch) {
      this.previousMemberEpoch = this.memberEpoch;
      this.memberEpoch = epoch;
    }
  }

  private setHeld(assigned: TopicPartitions, pending: TopicPartitions): void {
    const stamps = new Map<string, number>();
    for (const [t, p] of eachPartition(assigned)) stamps.set(partitionKey(t, p), this.assignedAt.get(partitionKey(t, p)) ?? this.memberEpoch);
    for (const [t, p] of eachPartition(pending)) stamps.set(partitionKey(t, p), this.assignedAt.get(partitionKey(t, p)) ?? this.memberEpoch);
    this.assigned = assigned;
    this.pendingRevocation = pending;
    this.assignedAt = stamps;
  }

  /**
   * Moves the member towards `target` (at `targetEpoch`). `owned` is what the heartbeat reported
   * (null: not sent, i.e. unchanged, so the member is assumed to still hold what it was told to
   * revoke). `ownerOf` names the member holding a partition, or null when it is free.
   */
  reconcile(targetEpoch: number, target: TopicPartitions, owned: TopicPartitions | null, ownerOf: (topicId: string, partition: number) => string | null): void {
    if (this.memberEpoch < 0) return; // a static member that left temporarily keeps its state
    const ownsRevoked = (revoked: TopicPartitions): boolean => owned === null || intersects(revoked, owned);
    switch (this.state) {
      case "stable":
        if (this.memberEpoch !== targetEpoch) this.computeNext(this.memberEpoch, targetEpoch, target, ownsRevoked, ownerOf);
        return;
      case "unrevoked":
        if (ownsRevoked(this.pendingRevocation)) return;
        this.computeNext(this.memberEpoch, targetEpoch, target, ownsRevoked, ownerOf);
        return;
      case "unreleased":
        this.computeNext(this.memberEpoch, targetEpoch, target, ownsRevoked, ownerOf);
        return;
    }
  }

  private computeNext(
    memberEpoch: number,
    targetEpoch: number,
    target: TopicPartitions,
    ownsRevoked: (revoked: TopicPartitions) => boolean,
    ownerOf: (topicId: string, partition: number) => string | null,
  ): void {
    const kept: TopicPartitions = new Map();
    const revoke: TopicPartitions = new Map();
    const add: TopicPartitions = new Map();
    let unreleased = false;
    for (const [t, p] of eachPartition(this.assigned)) {
      if (target.get(t)?.has(p)) addPartition(kept, t, p);
      else addPartition(revoke, t, p);
    }
    for (const [t, p] of eachPartition(target)) {
      if (kept.get(t)?.has(p)) continue;
      const holder = ownerOf(t, p);
      if (holder === null || holder === this.memberId) addPartition(add, t, p);
      else unreleased = true;
    }
    if (revoke.size > 0 && ownsRevoked(revoke)) {
      // Revoke first: same epoch, only the partitions it keeps, new ones come later.
      this.moveToEpoch(memberEpoch);
      this.state = "unrevoked";
      this.setHeld(kept, revoke);
      return;
    }
    this.moveToEpoch(targetEpoch);
    for (const [t, p] of eachPartition(add)) addPartition(kept, t, p);
    this.state = unreleased ? "unreleased" : "stable";
    this.setHeld(kept, new Map());
  }

  /** Forgets everything the member held (it rejoined with epoch 0 and owns nothing). */
  resetAssignment(): void {
    this.memberEpoch = 0;
    this.previousMemberEpoch = 0;
    this.state = "stable";
    this.assigned = new Map();
    this.pendingRevocation = new Map();
    this.assignedAt = new Map();
  }
}
