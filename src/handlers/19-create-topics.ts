/**
 * CreateTopics (key 19), v2-7 (Kafka 4 removed v0-1). Replication factor must be 1 or -1 (default);
 * manual assignments may only name this broker. validate_only checks without creating. From v5 the
 * result carries the topic's effective configs, as Kafka returns them.
 */
import { readCreateTopicsRequest } from "../protocol/generated/create-topics-request.ts";
import { writeCreateTopicsResponse, type CreateTopicsResponse } from "../protocol/generated/create-topics-response.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { ZERO_UUID } from "../protocol/reader.ts";
import { effectiveTopicConfig } from "../config/topic-config.ts";
import { defineHandler } from "./handler.ts";
import { AuthzError, authorizeCluster, authorizeTopic } from "../acl/check.ts";
import { AclOperation } from "../acl/types.ts";

type Result = CreateTopicsResponse["topics"][number];

export const createTopicsHandler = defineHandler({
  apiKey: 19,
  name: "CreateTopics",
  minVersion: 2,
  maxVersion: 7,
  readRequest: readCreateTopicsRequest,
  writeResponse: writeCreateTopicsResponse,
  async handle(ctx, req) {
    const { broker } = ctx;
    const clusterCreate = authorizeCluster(ctx, AclOperation.CREATE);
    const seen = new Map<string, number>();
    for (const t of req.topics) seen.set(t.name, (seen.get(t.name) ?? 0) + 1);
    const results: Result[] = [];
    for (const t of req.topics) {
      const fail = (errorCode: number, errorMessage: string): Result => ({
        name: t.name, topicId: ZERO_UUID, errorCode, errorMessage, numPartitions: -1, replicationFactor: -1, configs: null,
      });
      if (!clusterCreate && !authorizeTopic(ctx, AclOperation.CREATE, t.name)) {
        results.push(fail(AuthzError.TOPIC_AUTHORIZATION_FAILED, "Authorization failed."));
        continue;
      }
      if ((seen.get(t.name) ?? 0) > 1) {
        results.push(fail(ErrorCode.INVALID_REQUEST, `Create topics request from client contains the topic ${t.name} more than once.`));
        continue;
      }
      let partitions = t.numPartitions;
      let replication = t.replicationFactor;
      if (t.assignments.length > 0) {
        if (partitions !== -1 || replication !== -1) {
          results.push(fail(ErrorCode.INVALID_REQUEST, "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time."));
          continue;
        }
        const bad = t.assignments.find((a) => a.brokerIds.length !== 1 || a.brokerIds[0] !== broker.nodeId);
        if (bad) {
          results.push(fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Replica assignment for partition ${bad.partitionIndex} must name exactly broker ${broker.nodeId}`));
          continue;
        }
        partitions = t.assignments.length;
        replication = 1;
      }
      const configs: Record<string, string | null> = {};
      for (const c of t.configs) configs[c.name] = c.value;
      const invalid = broker.topics.validateCreate(t.name, partitions, replication, configs);
      if (invalid) {
        results.push(fail(invalid.errorCode, invalid.errorMessage));
        continue;
      }
      const effectivePartitions = partitions === -1 ? broker.config.numPartitions : partitions;
      let topicId = ZERO_UUID;
      if (!req.validateOnly) {
        const created = await broker.topics.create(t.name, effectivePartitions, configs);
        if (!("record" in created)) {
          results.push(fail(created.errorCode, created.errorMessage));
          continue;
        }
        topicId = created.record.id;
      }
      const overrides: Record<string, string> = {};
      for (const [k, v] of Object.entries(configs)) if (v !== null) overrides[k] = v;
      results.push({
        name: t.name,
        topicId,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        numPartitions: effectivePartitions,
        replicationFactor: 1,
        configs: effectiveTopicConfig(overrides, broker.config.raw).map((e) => ({
          name: e.name, value: e.value, readOnly: false, configSource: e.source, isSensitive: false,
        })),
      });
    }
    return { throttleTimeMs: 0, topics: results } satisfies CreateTopicsResponse;
  },
});
