/**
 * CreatePartitions (key 37), v0-3. Grows a topic's partition count; manual assignments may only
 * name this broker. validate_only checks without changing anything. ALTER on the topic is required
 * (else TOPIC_AUTHORIZATION_FAILED, before the existence check, as Kafka).
 */
import { readCreatePartitionsRequest } from "../protocol/generated/create-partitions-request.ts";
import { writeCreatePartitionsResponse, type CreatePartitionsResponse } from "../protocol/generated/create-partitions-response.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { MAX_PARTITIONS_PER_TOPIC } from "../broker/topic-manager.ts";
import { defineHandler } from "./handler.ts";
import { AuthzError, authorizeTopic } from "../acl/check.ts";
import { AclOperation } from "../acl/types.ts";

export const createPartitionsHandler = defineHandler({
  apiKey: 37,
  name: "CreatePartitions",
  minVersion: 0,
  maxVersion: 3,
  readRequest: readCreatePartitionsRequest,
  writeResponse: writeCreatePartitionsResponse,
  async handle(ctx, req) {
    const { broker } = ctx;
    const results: CreatePartitionsResponse["results"] = [];
    for (const t of req.topics) {
      const state = broker.topics.get(t.name);
      const result = (errorCode: number, errorMessage: string | null = null) => results.push({ name: t.name, errorCode, errorMessage });
      if (!authorizeTopic(ctx, AclOperation.ALTER, t.name)) {
        result(AuthzError.TOPIC_AUTHORIZATION_FAILED, "Topic authorization failed.");
        continue;
      }
      if (!state) {
        result(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this topic.");
        continue;
      }
      const current = state.record.partitions;
      if (t.count <= current) {
        result(ErrorCode.INVALID_PARTITIONS, t.count === current ? `Topic already has ${current} partitions.` : `Topic currently has ${current} partitions, which is higher than the requested ${t.count}.`);
        continue;
      }
      if (t.count > MAX_PARTITIONS_PER_TOPIC) {
        result(ErrorCode.INVALID_PARTITIONS, `Number of partitions must be at most ${MAX_PARTITIONS_PER_TOPIC}.`);
        continue;
      }
      if (t.assignments && (t.assignments.length !== t.count - current || t.assignments.some((a) => a.brokerIds.length !== 1 || a.brokerIds[0] !== broker.nodeId))) {
        result(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Assignments must name broker ${broker.nodeId} once for each of the ${t.count - current} new partitions.`);
        continue;
      }
      if (req.validateOnly) {
        result(ErrorCode.NONE);
        continue;
      }
      const err = await broker.topics.addPartitions(t.name, t.count);
      result(err?.errorCode ?? ErrorCode.NONE, err?.errorMessage ?? null);
    }
    return { throttleTimeMs: 0, results } satisfies CreatePartitionsResponse;
  },
});
