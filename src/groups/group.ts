/**
 * What the coordinator needs from any kind of group. Classic groups (JoinGroup/SyncGroup) implement
 * it today; KIP-848 consumer groups (ConsumerGroupHeartbeat) will be a second implementation in
 * the same registry, since group ids form one namespace and ListGroups, DescribeGroups and the
 * offset APIs must see both kinds.
 */
export type GroupType = "classic" | "consumer";

export interface Group {
  readonly groupId: string;
  readonly type: GroupType;
  /** Kafka's state name as ListGroups/DescribeGroups report it ("Stable", "Empty", ...). */
  stateName(): string;
  /** The protocol type ("consumer", "connect", ...); "" for a group that only holds offsets. */
  protocolTypeName(): string;
  /** True when the group has no members (offsets may expire; DeleteGroups may delete it). */
  hasNoMembers(): boolean;
  /** Time of the last state change (offset expiry of empty groups counts from here). */
  readonly stateTimestamp: number;
  /** Checks an OffsetCommit against membership and generation; a GroupError code. */
  validateOffsetCommit(memberId: string, groupInstanceId: string | null, generationOrEpoch: number): number;
  /** Whether committed offsets of `topic` are in use (OffsetDelete refuses them). null: cannot tell. */
  isSubscribedTo(topic: string): boolean;
  /** Marks the group deleted and answers anything still waiting on it. */
  markDead(): void;
}
