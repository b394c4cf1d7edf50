/**
 * OffsetCommit (key 8), v2-9 (Kafka 4 removed v0-1). Validated against the group's membership and
 * generation like Kafka (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID,
 * REBALANCE_IN_PROGRESS); generation -1 commits into an empty or unknown group ("simple"
 * consumers, admin tools). Answered after the commit record is fsynced in the group log.
 * v2-4 retention_time_ms sets a per-offset expiry. Unknown partitions: UNKNOWN_TOPIC_OR_PARTITION.
 * KIP-848 groups: the member epoch is the generation (STALE_MEMBER_EPOCH when ahead; an older epoch
 * is accepted per partition the member held since then, KIP-1251); their members must use v9+.
 */
import { readOffsetCommitRequest } from "../protocol/generated/offset-commit-request.ts";
import { writeOffsetCommitResponse, type OffsetCommitResponse } from "../protocol/generated/offset-commit-response.ts";
import { consumerGroupsOf } from "../groups/broker-wiring.ts";
import { defineHandler } from "./handler.ts";
import { AuthzError, authorizeGroup, authorizeTopic } from "../acl/check.ts";
import { AclOperation } from "../acl/types.ts";

export const offsetCommitHandler = defineHandler({
  apiKey: 8,
  name: "OffsetCommit",
  minVersion: 2,
  maxVersion: 9,
  readRequest: readOffsetCommitRequest,
  writeResponse: writeOffsetCommitResponse,
  async handle(ctx, req): Promise<OffsetCommitResponse> {
    const { broker, apiVersion } = ctx;
    // Kafka: without READ on the group every partition fails; without READ on a topic its partitions do.
    const groupDenied = !authorizeGroup(ctx, AclOperation.READ, req.groupId);
    const topicDenied = new Set(groupDenied ? [] : req.topics.filter((t) => !authorizeTopic(ctx, AclOperation.READ, t.name)).map((t) => t.name));
    const deniedCode = (topic: string): number | null =>
      groupDenied ? AuthzError.GROUP_AUTHORIZATION_FAILED : topicDenied.has(topic) ? AuthzError.TOPIC_AUTHORIZATION_FAILED : null;
    const allowed = req.topics.filter((t) => deniedCode(t.name) === null);
    const partitions = allowed.flatMap((t) =>
      t.partitions.map((p) => ({
        topic: t.name,
        partition: p.partitionIndex,
        offset: p.committedOffset,
        leaderEpoch: p.committedLeaderEpoch ?? -1,
        metadata: p.committedMetadata,
      })),
    );
    const codes = groupDenied || (allowed.length === 0 && req.topics.length > 0) ? [] : await consumerGroupsOf(broker).commitOffsets({
      groupId: req.groupId,
      memberId: req.memberId ?? "",
      groupInstanceId: req.groupInstanceId ?? null,
      generationIdOrMemberEpoch: req.generationIdOrMemberEpoch ?? -1,
      version: apiVersion,
      retentionTimeMs: apiVersion <= 4 ? (req.retentionTimeMs ?? -1) : -1,
      partitions,
    });
    let i = 0;
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: deniedCode(t.name) ?? codes[i++]! })),
      })),
    };
  },
});
