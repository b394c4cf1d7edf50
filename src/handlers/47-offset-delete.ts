/**
 * OffsetDelete (key 47), v0. GROUP_ID_NOT_FOUND for unknown groups, NON_EMPTY_GROUP for a
 * non-consumer group with members, GROUP_SUBSCRIBED_TO_TOPIC per partition of a topic a member of
 * a consumer group subscribes to; the rest get tombstones in the group log. ACLs as Kafka: DELETE
 * on the group (else a top-level GROUP_AUTHORIZATION_FAILED), READ on each topic (else
 * TOPIC_AUTHORIZATION_FAILED for its partitions, which are left alone).
 */
import { readOffsetDeleteRequest } from "../protocol/generated/offset-delete-request.ts";
import { writeOffsetDeleteResponse, type OffsetDeleteResponse } from "../protocol/generated/offset-delete-response.ts";
import { defineHandler } from "./handler.ts";
import { AuthzError, authorizeGroup, authorizeTopic } from "../acl/check.ts";
import { AclOperation } from "../acl/types.ts";

export const offsetDeleteHandler = defineHandler({
  apiKey: 47,
  name: "OffsetDelete",
  minVersion: 0,
  maxVersion: 0,
  readRequest: readOffsetDeleteRequest,
  writeResponse: writeOffsetDeleteResponse,
  async handle(ctx, req): Promise<OffsetDeleteResponse> {
    const { broker } = ctx;
    if (!authorizeGroup(ctx, AclOperation.DELETE, req.groupId)) return { errorCode: AuthzError.GROUP_AUTHORIZATION_FAILED, throttleTimeMs: 0, topics: [] };
    const readable = new Set(req.topics.filter((t) => authorizeTopic(ctx, AclOperation.READ, t.name)).map((t) => t.name));
    const partitions = req.topics.filter((t) => readable.has(t.name)).flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex })));
    const r = await broker.groups.deleteOffsets(req.groupId, partitions);
    if (r.errorCode !== 0) return { errorCode: r.errorCode, throttleTimeMs: 0, topics: [] };
    let i = 0;
    return {
      errorCode: 0,
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: readable.has(t.name) ? r.codes[i++]! : AuthzError.TOPIC_AUTHORIZATION_FAILED })),
      })),
    };
  },
});
