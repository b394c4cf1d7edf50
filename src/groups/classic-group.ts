/**
 * One classic consumer group (JoinGroup / SyncGroup / Heartbeat / LeaveGroup) and Kafka's state
 * machine for it:
 *
 *   Empty ──join──► PreparingRebalance ──all joined / timeout──► CompletingRebalance
 *     ▲                 ▲      │                                       │ leader's SyncGroup
 *     └── no members ───┘      └─ nobody left: Empty                   ▼ (assignment durable)
 *                       └──────── join, leave, expiry, leader rejoin ─ Stable
 *   Dead: deleted (DeleteGroups, offset expiry of an empty group).
 *
 * Rules followed from Kafka's classic coordinator:
 * - KIP-394: JoinGroup v4+ without a member id gets MEMBER_ID_REQUIRED and a generated id; the
 *   id stays "pending" (blocking early completion of the join phase) until it rejoins or its
 *   session timeout passes.
 * - The join phase ends when every member and no pending member is waiting, or at the largest
 *   rebalance timeout. Dynamic members that did not rejoin are removed; static ones are kept.
 *   The first join of an Empty group waits group.initial.rebalance.delay.ms, extended while new
 *   members keep arriving, up to the rebalance timeout.
 * - KIP-345 static membership: a join with a known group.instance.id and no member id replaces
 *   the old member id; in Stable with the same protocols it gets the current generation without
 *   a rebalance (the leader gets the member list with skipAssignment, v9). The replaced id is
 *   fenced (FENCED_INSTANCE_ID).
 * - Members waiting in JoinGroup or SyncGroup do not expire; the others expire after their
 *   session timeout without a heartbeat (or join/sync), which triggers a rebalance.
 * - The leader's assignment is written to the group log before anyone gets it (SyncGroup answers
 *   after the write is durable).
 */
import { randomUUID } from "node:crypto";
import type { DeadlineScheduler } from "./deadlines.ts";
import { GroupError } from "./errors.ts";
import type { Group } from "./group.ts";
import { commonProtocols, selectProtocol, subscribedTopics, type Protocol } from "./protocol.ts";
import type { GroupValue, StoredMember } from "./record-codec.ts";

export type ClassicState = "Empty" | "PreparingRebalance" | "CompletingRebalance" | "Stable" | "Dead";

export interface JoinParams {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: Protocol[];
  /** JoinGroup v4+: an unknown member must come back with the id we hand out. */
  requireKnownMemberId: boolean;
  /** JoinGroup v9+: the static leader may be told to skip the assignment (KIP-814). */
  supportsSkipAssignment: boolean;
}

export interface JoinMember {
  memberId: string;
  groupInstanceId: string | null;
  metadata: Uint8Array;
}

export interface JoinResult {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  skipAssignment: boolean;
  memberId: string;
  members: JoinMember[];
}

export interface SyncParams {
  memberId: string;
  groupInstanceId: string | null;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  assignments: { memberId: string; assignment: Uint8Array }[];
}

export interface SyncResult {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Uint8Array;
}

export interface MemberIdentity {
  memberId: string;
  groupInstanceId: string | null;
}

/** What a group needs from its coordinator. */
export interface GroupEnvironment {
  readonly scheduler: DeadlineScheduler;
  now(): number;
  readonly initialRebalanceDelayMs: number;
  readonly maxSize: number;
  /** Writes the group's metadata record; resolves when durable. */
  store(group: ClassicGroup, value: GroupValue): Promise<void>;
  log(msg: string): void;
}

export class Member {
  assignment: Uint8Array = EMPTY;
  joinWaiter: ((r: JoinResult) => void) | null = null;
  syncWaiter: ((r: SyncResult) => void) | null = null;
  isNew = false;

  constructor(
    public memberId: string,
    readonly groupInstanceId: string | null,
    public clientId: string,
    public clientHost: string,
    public sessionTimeoutMs: number,
    public rebalanceTimeoutMs: number,
    public protocolType: string,
    public protocols: Protocol[],
  ) {}

  metadataFor(protocol: string | null): Uint8Array {
    return this.protocols.find((p) => p.name === protocol)?.metadata ?? EMPTY;
  }

  sameProtocols(protocols: readonly Protocol[]): boolean {
    if (protocols.length !== this.protocols.length) return false;
    return protocols.every((p, i) => p.name === this.protocols[i]!.name && bytesEqual(p.metadata, this.protocols[i]!.metadata));
  }
}

const EMPTY = new Uint8Array(0);

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class ClassicGroup implements Group {
  readonly type = "classic" as const;
  state: ClassicState = "Empty";
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  stateTimestamp: number;
  /** Members in join order (Map keeps insertion order; the leader falls back to the oldest). */
  readonly members = new Map<string, Member>();
  /** group.instance.id → current member id. */
  readonly staticMembers = new Map<string, string>();
  /** Ids handed out with MEMBER_ID_REQUIRED that have not joined yet. */
  readonly pendingMembers = new Set<string>();
  private inInitialDelay = false;
  private initialDelayBudgetMs = 0;
  private newMemberAdded = false;

  constructor(
    readonly groupId: string,
    private readonly env: GroupEnvironment,
  ) {
    this.stateTimestamp = env.now();
  }

  // ---- Group interface --------------------------------------------------------------------------

  stateName(): string {
    return this.state;
  }

  protocolTypeName(): string {
    return this.protocolType ?? "";
  }

  hasNoMembers(): boolean {
    return this.members.size === 0;
  }

  isSubscribedTo(topic: string): boolean {
    if (this.protocolType !== "consumer" || this.members.size === 0 || this.protocolName === null) return false;
    for (const m of this.members.values()) {
      const topics = subscribedTopics(m.metadataFor(this.protocolName));
      if (topics?.includes(topic)) return true;
    }
    return false;
  }

  /** Kafka's classic-group OffsetCommit validation. */
  validateOffsetCommit(memberId: string, groupInstanceId: string | null, generationId: number): number {
    if (this.state === "Dead") return GroupError.COORDINATOR_NOT_AVAILABLE;
    if (generationId < 0 && this.state === "Empty") return GroupError.NONE; // admin / simple consumer
    if (generationId >= 0 || memberId !== "" || groupInstanceId !== null) {
      const err = this.validateMember(memberId, groupInstanceId);
      if (err !== GroupError.NONE) return err;
      if (generationId !== this.generationId) return GroupError.ILLEGAL_GENERATION;
    } else if (this.state !== "Empty") {
      return GroupError.UNKNOWN_MEMBER_ID;
    }
    if (this.state === "CompletingRebalance") return GroupError.REBALANCE_IN_PROGRESS;
    const m = this.members.get(memberId);
    if (m) this.scheduleHeartbeat(m); // a commit proves the member alive, as in Kafka
    return GroupError.NONE;
  }

  markDead(): void {
    this.transition("Dead");
    for (const m of this.members.values()) this.dropWaiters(m, GroupError.COORDINATOR_NOT_AVAILABLE);
    this.cancelAllDeadlines();
  }

  /** Broker shutdown: answer whoever waits, so handlers finish; the client finds the coordinator again. */
  abort(): void {
    for (const m of this.members.values()) this.dropWaiters(m, GroupError.NOT_COORDINATOR);
    this.cancelAllDeadlines();
  }

  // ---- JoinGroup --------------------------------------------------------------------------------

  join(p: JoinParams): JoinResult | Promise<JoinResult> {
    if (this.state === "Dead") return this.joinError(p.memberId, GroupError.COORDINATOR_NOT_AVAILABLE);
    if (!this.supportsProtocols(p.protocolType, p.protocols, p.memberId)) {
      return this.joinError(p.memberId, GroupError.INCONSISTENT_GROUP_PROTOCOL);
    }
    return p.memberId === "" ? this.joinUnknownMember(p) : this.joinKnownMember(p);
  }

  private joinUnknownMember(p: JoinParams): JoinResult | Promise<JoinResult> {
    const existingStatic = p.groupInstanceId === null ? undefined : this.staticMembers.get(p.groupInstanceId);
    if (existingStatic === undefined && this.members.size + this.pendingMembers.size >= this.env.maxSize) {
      return this.joinError("", GroupError.GROUP_MAX_SIZE_REACHED);
    }
    const newId = `${p.clientId}-${randomUUID()}`;
    if (existingStatic !== undefined) return this.replaceStaticMember(existingStatic, newId, p);
    if (p.groupInstanceId === null && p.requireKnownMemberId) {
      this.pendingMembers.add(newId);
      this.env.scheduler.set(this.pendingKey(newId), this.env.now() + p.sessionTimeoutMs, () => {
        this.pendingMembers.delete(newId);
        this.tryCompleteJoin();
      });
      return this.joinError(newId, GroupError.MEMBER_ID_REQUIRED);
    }
    return this.addMemberAndRebalance(newId, p);
  }

  private joinKnownMember(p: JoinParams): JoinResult | Promise<JoinResult> {
    if (this.pendingMembers.has(p.memberId)) {
      this.pendingMembers.delete(p.memberId);
      this.env.scheduler.cancel(this.pendingKey(p.memberId));
      return this.addMemberAndRebalance(p.memberId, p);
    }
    const err = this.validateMember(p.memberId, p.groupInstanceId);
    if (err !== GroupError.NONE) return this.joinError(p.memberId, err);
    const member = this.members.get(p.memberId)!;
    switch (this.state) {
      case "PreparingRebalance":
        return this.updateMemberAndRebalance(member, p);
      case "CompletingRebalance":
        // A resend (the join response was lost): same answer again, unless the protocols changed.
        if (member.sameProtocols(p.protocols)) return this.currentGeneration(member, false);
        return this.updateMemberAndRebalance(member, p);
      case "Stable":
        if (p.memberId === this.leaderId || !member.sameProtocols(p.protocols)) return this.updateMemberAndRebalance(member, p);
        this.scheduleHeartbeat(member);
        return this.currentGeneration(member, false);
      default:
        return this.joinError(p.memberId, GroupError.UNKNOWN_MEMBER_ID);
    }
  }

  private addMemberAndRebalance(memberId: string, p: JoinParams): Promise<JoinResult> {
    const member = new Member(memberId, p.groupInstanceId, p.clientId, p.clientHost, p.sessionTimeoutMs, p.rebalanceTimeoutMs, p.protocolType, p.protocols);
    member.isNew = true;
    if (this.members.size === 0) this.protocolType = p.protocolType;
    this.members.set(memberId, member);
    if (p.groupInstanceId !== null) this.staticMembers.set(p.groupInstanceId, memberId);
    this.leaderId ??= memberId;
    if (this.state === "PreparingRebalance" && this.generationId === 0) this.newMemberAdded = true;
    const result = this.waitJoin(member);
    this.scheduleHeartbeat(member);
    this.maybePrepareRebalance(`member ${memberId} joined`);
    this.tryCompleteJoin();
    return result;
  }

  private updateMemberAndRebalance(member: Member, p: JoinParams): Promise<JoinResult> {
    this.updateMember(member, p);
    const result = this.waitJoin(member);
    this.scheduleHeartbeat(member);
    this.maybePrepareRebalance(`member ${member.memberId} rejoined`);
    this.tryCompleteJoin();
    return result;
  }

  private async replaceStaticMember(oldId: string, newId: string, p: JoinParams): Promise<JoinResult> {
    const member = this.members.get(oldId)!;
    const oldProtocols = member.protocols;
    this.dropWaiters(member, GroupError.FENCED_INSTANCE_ID);
    this.env.scheduler.cancel(this.heartbeatKey(oldId));
    this.members.delete(oldId);
    member.memberId = newId;
    this.members.set(newId, member);
    this.staticMembers.set(p.groupInstanceId!, newId);
    if (this.leaderId === oldId) this.leaderId = newId;
    this.updateMember(member, p);
    this.scheduleHeartbeat(member);
    switch (this.state) {
      case "Stable": {
        const selected = selectProtocol([...this.members.values()].map((m) => m.protocols));
        const unchanged =
          selected === this.protocolName &&
          bytesEqual(member.metadataFor(selected), oldProtocols.find((x) => x.name === selected)?.metadata ?? EMPTY);
        if (!unchanged) {
          const result = this.waitJoin(member);
          this.prepareRebalance(`static member ${p.groupInstanceId} rejoined with other protocols`);
          return result;
        }
        const generation = this.generationId;
        try {
          await this.env.store(this, this.toStoredValue());
        } catch (e) {
          this.env.log(`group ${this.groupId}: storing the new id of static member ${p.groupInstanceId} failed: ${(e as Error).message}`);
          return this.joinError(newId, GroupError.UNKNOWN_SERVER_ERROR);
        }
        if (this.generationId !== generation || this.members.get(newId) !== member) return this.joinError(newId, GroupError.REBALANCE_IN_PROGRESS);
        return this.currentGeneration(member, p.supportsSkipAssignment);
      }
      case "CompletingRebalance": {
        const result = this.waitJoin(member);
        this.prepareRebalance(`static member ${p.groupInstanceId} rejoined during CompletingRebalance`);
        return result;
      }
      case "PreparingRebalance": {
        const result = this.waitJoin(member);
        this.tryCompleteJoin();
        return result;
      }
      default:
        return this.joinError(newId, GroupError.UNKNOWN_MEMBER_ID);
    }
  }

  private updateMember(member: Member, p: JoinParams): void {
    member.protocols = p.protocols;
    member.protocolType = p.protocolType;
    member.sessionTimeoutMs = p.sessionTimeoutMs;
    member.rebalanceTimeoutMs = p.rebalanceTimeoutMs;
    member.clientId = p.clientId;
    member.clientHost = p.clientHost;
  }

  private waitJoin(member: Member): Promise<JoinResult> {
    // A second JoinGroup while one waits replaces it; the first is told to retry.
    if (member.joinWaiter) member.joinWaiter(this.errorResult(member.memberId, GroupError.REBALANCE_IN_PROGRESS));
    return new Promise((resolve) => (member.joinWaiter = resolve));
  }

  private currentGeneration(member: Member, skipAssignment: boolean): JoinResult {
    const isLeader = member.memberId === this.leaderId;
    const listMembers = isLeader && (this.state === "CompletingRebalance" || skipAssignment);
    return {
      errorCode: GroupError.NONE,
      generationId: this.generationId,
      protocolType: this.protocolType,
      protocolName: this.protocolName,
      leader: this.leaderId ?? "",
      skipAssignment: isLeader && skipAssignment,
      memberId: member.memberId,
      members: listMembers ? this.memberList() : [],
    };
  }

  private memberList(): JoinMember[] {
    return [...this.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.metadataFor(this.protocolName),
    }));
  }

  private supportsProtocols(protocolType: string, protocols: readonly Protocol[], memberId: string): boolean {
    const others = [...this.members.values()].filter((m) => m.memberId !== memberId);
    if (others.length === 0) return protocolType !== "" && protocols.length > 0;
    if (protocolType !== this.protocolType) return false;
    const common = commonProtocols(others.map((m) => m.protocols));
    return protocols.some((p) => common.has(p.name));
  }

  // ---- rebalance --------------------------------------------------------------------------------

  private maybePrepareRebalance(reason: string): void {
    if (this.state === "Stable" || this.state === "CompletingRebalance" || this.state === "Empty") this.prepareRebalance(reason);
  }

  private prepareRebalance(reason: string): void {
    if (this.state === "CompletingRebalance") this.resetAssignments(GroupError.REBALANCE_IN_PROGRESS);
    const wasEmpty = this.state === "Empty";
    this.transition("PreparingRebalance");
    this.env.log(`group ${this.groupId}: preparing rebalance (generation ${this.generationId}): ${reason}`);
    const timeout = this.rebalanceTimeoutMs();
    if (wasEmpty && this.env.initialRebalanceDelayMs > 0) {
      this.inInitialDelay = true;
      const delay = Math.min(this.env.initialRebalanceDelayMs, timeout);
      this.initialDelayBudgetMs = Math.max(timeout - this.env.initialRebalanceDelayMs, 0);
      this.newMemberAdded = false;
      this.env.scheduler.set(this.joinKey(), this.env.now() + delay, () => this.onInitialDelayEnd());
    } else {
      this.inInitialDelay = false;
      this.env.scheduler.set(this.joinKey(), this.env.now() + timeout, () => this.completeJoin());
      this.tryCompleteJoin();
    }
  }

  private onInitialDelayEnd(): void {
    if (this.state !== "PreparingRebalance") return;
    if (this.newMemberAdded && this.initialDelayBudgetMs > 0) {
      // Members are still arriving: wait another delay, within the rebalance timeout.
      this.newMemberAdded = false;
      const delay = Math.min(this.env.initialRebalanceDelayMs, this.initialDelayBudgetMs);
      this.initialDelayBudgetMs = Math.max(this.initialDelayBudgetMs - this.env.initialRebalanceDelayMs, 0);
      this.env.scheduler.set(this.joinKey(), this.env.now() + delay, () => this.onInitialDelayEnd());
      return;
    }
    this.inInitialDelay = false;
    this.completeJoin();
  }

  private rebalanceTimeoutMs(): number {
    let t = 0;
    for (const m of this.members.values()) t = Math.max(t, m.rebalanceTimeoutMs);
    return t;
  }

  private tryCompleteJoin(): void {
    if (this.state !== "PreparingRebalance" || this.inInitialDelay) return;
    if (this.pendingMembers.size > 0) return;
    for (const m of this.members.values()) if (m.joinWaiter === null) return;
    this.completeJoin();
  }

  private completeJoin(): void {
    if (this.state !== "PreparingRebalance") return;
    this.env.scheduler.cancel(this.joinKey());
    this.inInitialDelay = false;
    for (const m of [...this.members.values()]) {
      if (m.joinWaiter === null && m.groupInstanceId === null) this.removeMemberQuietly(m);
    }
    const joined = [...this.members.values()].filter((m) => m.joinWaiter !== null);
    if (this.members.size > 0 && joined.length === 0) {
      // Only static members that have not rejoined: keep waiting for them (Kafka does the same).
      this.env.scheduler.set(this.joinKey(), this.env.now() + this.rebalanceTimeoutMs(), () => this.completeJoin());
      return;
    }
    this.generationId++;
    if (this.members.size === 0) {
      this.protocolName = null;
      this.leaderId = null;
      this.transition("Empty");
      this.env.log(`group ${this.groupId}: generation ${this.generationId} is empty`);
      this.storeInBackground();
      return;
    }
    this.protocolName = selectProtocol([...this.members.values()].map((m) => m.protocols));
    const leader = this.leaderId === null ? undefined : this.members.get(this.leaderId);
    if (leader === undefined || leader.joinWaiter === null) this.leaderId = joined[0]!.memberId;
    this.transition("CompletingRebalance");
    this.env.log(`group ${this.groupId}: generation ${this.generationId} with ${this.members.size} members, protocol ${this.protocolName}`);
    for (const m of joined) {
      const waiter = m.joinWaiter!;
      m.joinWaiter = null;
      m.isNew = false;
      this.scheduleHeartbeat(m);
      waiter(this.currentGeneration(m, false));
    }
  }

  private resetAssignments(syncError: number): void {
    for (const m of this.members.values()) {
      m.assignment = EMPTY;
      if (m.syncWaiter) {
        const w = m.syncWaiter;
        m.syncWaiter = null;
        w({ errorCode: syncError, protocolType: this.protocolType, protocolName: this.protocolName, assignment: EMPTY });
      }
    }
  }

  // ---- SyncGroup --------------------------------------------------------------------------------

  sync(p: SyncParams): SyncResult | Promise<SyncResult> {
    if (this.state === "Dead") return this.syncError(GroupError.COORDINATOR_NOT_AVAILABLE);
    const err = this.validateMember(p.memberId, p.groupInstanceId);
    if (err !== GroupError.NONE) return this.syncError(err);
    if (p.generationId !== this.generationId) return this.syncError(GroupError.ILLEGAL_GENERATION);
    if ((p.protocolType !== null && p.protocolType !== this.protocolType) || (p.protocolName !== null && p.protocolName !== this.protocolName)) {
      return this.syncError(GroupError.INCONSISTENT_GROUP_PROTOCOL);
    }
    const member = this.members.get(p.memberId)!;
    switch (this.state) {
      case "PreparingRebalance":
        return this.syncError(GroupError.REBALANCE_IN_PROGRESS);
      case "Stable":
        this.scheduleHeartbeat(member);
        return { errorCode: GroupError.NONE, protocolType: this.protocolType, protocolName: this.protocolName, assignment: member.assignment };
      case "CompletingRebalance": {
        if (member.syncWaiter) member.syncWaiter(this.syncError(GroupError.REBALANCE_IN_PROGRESS));
        const result = new Promise<SyncResult>((resolve) => (member.syncWaiter = resolve));
        this.scheduleHeartbeat(member);
        if (p.memberId === this.leaderId) void this.storeAssignment(p.assignments);
        return result;
      }
      default:
        return this.syncError(GroupError.UNKNOWN_MEMBER_ID);
    }
  }

  /** Persists the leader's assignment, then hands it out and moves to Stable. */
  private async storeAssignment(assignments: SyncParams["assignments"]): Promise<void> {
    const generation = this.generationId;
    const byMember = new Map<string, Uint8Array>();
    for (const a of assignments) if (this.members.has(a.memberId)) byMember.set(a.memberId, a.assignment);
    try {
      await this.env.store(this, this.toStoredValue(byMember));
    } catch (e) {
      this.env.log(`group ${this.groupId}: storing generation ${generation} failed: ${(e as Error).message}`);
      if (this.state === "CompletingRebalance" && this.generationId === generation) {
        this.resetAssignments(GroupError.COORDINATOR_NOT_AVAILABLE);
        this.prepareRebalance("storing the assignment failed");
      }
      return;
    }
    if (this.state !== "CompletingRebalance" || this.generationId !== generation) return; // superseded
    for (const m of this.members.values()) m.assignment = byMember.get(m.memberId) ?? EMPTY;
    this.transition("Stable");
    for (const m of this.members.values()) {
      if (!m.syncWaiter) continue;
      const w = m.syncWaiter;
      m.syncWaiter = null;
      w({ errorCode: GroupError.NONE, protocolType: this.protocolType, protocolName: this.protocolName, assignment: m.assignment });
    }
  }

  // ---- Heartbeat / LeaveGroup ---------------------------------------------------------------------

  heartbeat(memberId: string, groupInstanceId: string | null, generationId: number): number {
    if (this.state === "Dead") return GroupError.COORDINATOR_NOT_AVAILABLE;
    const err = this.validateMember(memberId, groupInstanceId);
    if (err !== GroupError.NONE) return err;
    if (generationId !== this.generationId) return GroupError.ILLEGAL_GENERATION;
    this.scheduleHeartbeat(this.members.get(memberId)!);
    return this.state === "PreparingRebalance" ? GroupError.REBALANCE_IN_PROGRESS : GroupError.NONE;
  }

  /** One error code per identity, in order. */
  leave(identities: readonly MemberIdentity[]): number[] {
    return identities.map((id) => {
      if (this.state === "Dead") return GroupError.COORDINATOR_NOT_AVAILABLE;
      let memberId = id.memberId;
      if (id.groupInstanceId !== null) {
        const current = this.staticMembers.get(id.groupInstanceId);
        if (current === undefined) return GroupError.UNKNOWN_MEMBER_ID;
        if (memberId !== "" && memberId !== current) return GroupError.FENCED_INSTANCE_ID;
        memberId = current;
      } else if (this.pendingMembers.has(memberId)) {
        this.pendingMembers.delete(memberId);
        this.env.scheduler.cancel(this.pendingKey(memberId));
        this.tryCompleteJoin();
        return GroupError.NONE;
      }
      const member = this.members.get(memberId);
      if (!member) return GroupError.UNKNOWN_MEMBER_ID;
      this.removeMember(member, `member ${memberId} left`);
      return GroupError.NONE;
    });
  }

  // ---- membership internals -----------------------------------------------------------------------

  private validateMember(memberId: string, groupInstanceId: string | null): number {
    if (groupInstanceId !== null) {
      const current = this.staticMembers.get(groupInstanceId);
      if (current !== undefined && current !== memberId) return GroupError.FENCED_INSTANCE_ID;
      if (current === undefined) return GroupError.UNKNOWN_MEMBER_ID;
    }
    return this.members.has(memberId) ? GroupError.NONE : GroupError.UNKNOWN_MEMBER_ID;
  }

  private scheduleHeartbeat(member: Member): void {
    const id = member.memberId;
    this.env.scheduler.set(this.heartbeatKey(id), this.env.now() + member.sessionTimeoutMs, () => this.onSessionExpired(id));
  }

  private onSessionExpired(memberId: string): void {
    const member = this.members.get(memberId);
    if (!member) return;
    if (member.joinWaiter !== null || member.syncWaiter !== null) {
      this.scheduleHeartbeat(member); // waiting on the coordinator counts as alive
      return;
    }
    this.removeMember(member, `member ${memberId} session timed out`);
  }

  private removeMember(member: Member, reason: string): void {
    this.removeMemberQuietly(member);
    switch (this.state) {
      case "Stable":
      case "CompletingRebalance":
        this.prepareRebalance(reason);
        break;
      case "PreparingRebalance":
        this.tryCompleteJoin();
        break;
      default:
    }
  }

  private removeMemberQuietly(member: Member): void {
    this.dropWaiters(member, GroupError.UNKNOWN_MEMBER_ID);
    this.env.scheduler.cancel(this.heartbeatKey(member.memberId));
    this.members.delete(member.memberId);
    if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === member.memberId) {
      this.staticMembers.delete(member.groupInstanceId);
    }
    if (this.leaderId === member.memberId) this.leaderId = this.members.keys().next().value ?? null;
  }

  private dropWaiters(member: Member, errorCode: number): void {
    if (member.joinWaiter) {
      const w = member.joinWaiter;
      member.joinWaiter = null;
      w(this.errorResult(member.memberId, errorCode));
    }
    if (member.syncWaiter) {
      const w = member.syncWaiter;
      member.syncWaiter = null;
      w(this.syncError(errorCode));
    }
  }

  private cancelAllDeadlines(): void {
    const s = this.env.scheduler;
    s.cancel(this.joinKey());
    for (const id of this.members.keys()) s.cancel(this.heartbeatKey(id));
    for (const id of this.pendingMembers) s.cancel(this.pendingKey(id));
  }

  private transition(state: ClassicState): void {
    this.state = state;
    this.stateTimestamp = this.env.now();
  }

  private storeInBackground(): void {
    this.env.store(this, this.toStoredValue()).catch((e) => this.env.log(`group ${this.groupId}: store failed: ${(e as Error).message}`));
  }

  private heartbeatKey(memberId: string): string {
    return `hb\u0000${this.groupId}\u0000${memberId}`;
  }

  private pendingKey(memberId: string): string {
    return `pending\u0000${this.groupId}\u0000${memberId}`;
  }

  private joinKey(): string {
    return `join\u0000${this.groupId}`;
  }

  private joinError(memberId: string, errorCode: number): JoinResult {
    return this.errorResult(memberId, errorCode);
  }

  private errorResult(memberId: string, errorCode: number): JoinResult {
    return { errorCode, generationId: -1, protocolType: null, protocolName: null, leader: "", skipAssignment: false, memberId, members: [] };
  }

  private syncError(errorCode: number): SyncResult {
    return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY };
  }

  // ---- persistence ------------------------------------------------------------------------------

  /** The group's metadata record; `assignments` overrides the members' current ones. */
  toStoredValue(assignments?: ReadonlyMap<string, Uint8Array>): GroupValue {
    const members: StoredMember[] = [...this.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      rebalanceTimeoutMs: m.rebalanceTimeoutMs,
      sessionTimeoutMs: m.sessionTimeoutMs,
      subscription: m.metadataFor(this.protocolName),
      assignment: assignments ? (assignments.get(m.memberId) ?? EMPTY) : m.assignment,
    }));
    return {
      protocolType: this.protocolType,
      generation: this.generationId,
      protocolName: this.protocolName,
      leader: this.leaderId,
      stateTimestamp: this.stateTimestamp,
      members,
    };
  }

  /**
   * Rebuilds a group from its stored record after a restart: Stable with the stored members (each
   * gets a fresh session timeout to heartbeat or rejoin), or Empty.
   */
  static restore(groupId: string, v: GroupValue, env: GroupEnvironment): ClassicGroup {
    const g = new ClassicGroup(groupId, env);
    g.protocolType = v.protocolType;
    g.generationId = v.generation;
    g.protocolName = v.protocolName;
    g.leaderId = v.leader;
    for (const s of v.members) {
      const protocols = v.protocolName === null ? [] : [{ name: v.protocolName, metadata: s.subscription }];
      const m = new Member(s.memberId, s.groupInstanceId, s.clientId, s.clientHost, s.sessionTimeoutMs, s.rebalanceTimeoutMs, v.protocolType ?? "", protocols);
      m.assignment = s.assignment;
      g.members.set(m.memberId, m);
      if (m.groupInstanceId !== null) g.staticMembers.set(m.groupInstanceId, m.memberId);
    }
    if (g.members.size > 0) {
      g.state = "Stable";
      if (g.leaderId === null || !g.members.has(g.leaderId)) g.leaderId = g.members.keys().next().value ?? null;
      for (const m of g.members.values()) g.scheduleHeartbeat(m);
    } else {
      g.leaderId = null;
    }
    g.stateTimestamp = v.stateTimestamp;
    return g;
  }
}
