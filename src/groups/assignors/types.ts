/**
 * What a server-side assignor (KIP-848) sees and returns. The coordinator computes a target
 * assignment for the whole group whenever the group epoch moves past the assignment epoch; the
 * previous target is passed in so assignors can be sticky.
 */
import type { TopicPartitions } from "../topic-partitions.ts";

export interface AssignorTopic {
  id: string;
  name: string;
  partitions: number;
}

export interface AssignorMember {
  memberId: string;
  instanceId: string | null;
  rackId: string | null;
  /** Ids of the existing topics the member subscribes to. */
  subscribedTopicIds: ReadonlySet<string>;
  /** The member's previous target assignment (empty for a new member). */
  previous: TopicPartitions;
}

export interface ServerAssignor {
  readonly name: string;
  /** A target for every member (members without partitions get an empty map). */
  assign(members: readonly AssignorMember[], topics: ReadonlyMap<string, AssignorTopic>): Map<string, TopicPartitions>;
}

/** Members in a stable order (by member id), so the same input always gives the same output. */
export function sortedMembers(members: readonly AssignorMember[]): AssignorMember[] {
  return [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
}
