/**
 * OffsetFetch (key 9), v1-9 (Kafka 4 removed v0). v2+: null topics = every committed offset of
 * the group, and a top-level error; v8+: several groups per request. A partition without a commit
 * answers offset -1 and metadata "". require_stable (v7+) needs nothing: without transactions no
 * commit is ever pending. v9: the member id / epoch are checked for KIP-848 groups
 * (UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH); classic groups ignore them, as Kafka.
 */
import { readOffsetFetchRequest } from "../protocol/generated/offset-fetch-request.ts";
import { writeOffsetFetchResponse, type OffsetFetchResponse } from "../protocol/generated/offset-fetch-response.ts";
import type { FetchedOffset } from "../groups/coordinator.ts";
import { consumerGroupsOf } from "../groups/broker-wiring.ts";
import { defineHandler, type RequestContext } from "./handler.ts";
import { AuthzError, authorizeGroup, authorizeTopic } from "../acl/check.ts";
import { AclOperation } from "../acl/types.ts";

type Topic = { name: string; partitionIndexes: number[] };

function byTopic(offsets: FetchedOffset[]): { name: string; partitions: FetchedOffset[] }[] {
  const out: { name: string; partitions: FetchedOffset[] }[] = [];
  const index = new Map<string, FetchedOffset[]>();
  for (const o of offsets) {
    let list = index.get(o.topic);
    if (!list) {
      index.set(o.topic, (list = []));
      out.push({ name: o.topic, partitions: list });
    }
    list.push(o);
  }
  return out;
}

function request(topics: Topic[] | null | undefined): { name: string; partitions: number[] }[] | null {
  return topics == null ? null : topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes }));
}

type Fetched = { errorCode: number; offsets: FetchedOffset[] };

/**
 * Kafka's checks: DESCRIBE on the group (else GROUP_AUTHORIZATION_FAILED for the group), DESCRIBE on
 * each topic: left out of an "all topics" answer, TOPIC_AUTHORIZATION_FAILED per partition when named.
 */
function authorizedFetch(ctx: RequestContext, groupId: string, topics: Topic[] | null | undefined, fetch: (topics: { name: string; partitions: number[] }[] | null) => Fetched): Fetched {
  if (!authorizeGroup(ctx, AclOperation.DESCRIBE, groupId)) return { errorCode: AuthzError.GROUP_AUTHORIZATION_FAILED, offsets: [] };
  const wanted = request(topics);
  if (wanted === null) {
    const r = fetch(null);
    return { errorCode: r.errorCode, offsets: r.offsets.filter((o) => authorizeTopic(ctx, AclOperation.DESCRIBE, o.topic)) };
  }
  const denied = wanted.filter((t) => !authorizeTopic(ctx, AclOperation.DESCRIBE, t.name));
  if (denied.length === 0) return fetch(wanted);
  const r = fetch(wanted.filter((t) => !denied.includes(t)));
  if (r.errorCode !== 0) return r;
  const failed = denied.flatMap((t) => t.partitions.map((partition) => ({ topic: t.name, partition, offset: -1, leaderEpoch: -1, metadata: "", errorCode: AuthzError.TOPIC_AUTHORIZATION_FAILED })));
  return { errorCode: 0, offsets: [...r.offsets, ...failed] };
}

export const offsetFetchHandler = defineHandler({
  apiKey: 9,
  name: "OffsetFetch",
  minVersion: 1,
  maxVersion: 9,
  readRequest: readOffsetFetchRequest,
  writeResponse: writeOffsetFetchResponse,
  handle(ctx, req): OffsetFetchResponse {
    const { broker, apiVersion } = ctx;
    if (apiVersion >= 8) {
      return {
        throttleTimeMs: 0,
        groups: (req.groups ?? []).map((g) => {
          const member = apiVersion >= 9 ? { memberId: g.memberId ?? null, memberEpoch: g.memberEpoch ?? -1 } : null;
          const r = authorizedFetch(ctx, g.groupId, g.topics, (topics) => consumerGroupsOf(broker).fetchOffsets(g.groupId, topics, member));
          return {
            groupId: g.groupId,
            errorCode: r.errorCode,
            topics: byTopic(r.offsets).map((t) => ({
              name: t.name,
              partitions: t.partitions.map((p) => ({
                partitionIndex: p.partition, committedOffset: p.offset, committedLeaderEpoch: p.leaderEpoch, metadata: p.metadata, errorCode: p.errorCode,
              })),
            })),
          };
        }),
      };
    }
    const r = authorizedFetch(ctx, req.groupId ?? "", req.topics, (topics) => broker.groups.fetchOffsets(req.groupId ?? "", topics));
    // v1 has no top-level error: a group-level error goes to every partition asked for.
    const offsets =
      apiVersion < 2 && r.errorCode !== 0
        ? (req.topics ?? []).flatMap((t) => t.partitionIndexes.map((partition) => ({ topic: t.name, partition, offset: -1, leaderEpoch: -1, metadata: "", errorCode: r.errorCode })))
        : r.offsets;
    return {
      throttleTimeMs: 0,
      errorCode: r.errorCode,
      topics: byTopic(offsets).map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partition, committedOffset: p.offset, committedLeaderEpoch: p.leaderEpoch, metadata: p.metadata, errorCode: p.errorCode,
        })),
      })),
    };
  },
});
