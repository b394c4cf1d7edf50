/**
 * Metadata (key 3), v4-12 (Kafka 4 removed v0-3). Topic ids from v10; auto-creation as Kafka does it:
 * only when the request allows it and `auto.create.topics.enable` is on. A single node leads every
 * partition with leader epoch 0.
 * With an authorizer: DESCRIBE on a topic to see it (unauthorized topics are left out of a full
 * listing and get TOPIC_AUTHORIZATION_FAILED when named), CREATE on the cluster or topic to
 * auto-create; authorized-operation bitfields when requested.
 */
import { readMetadataRequest } from "../protocol/generated/metadata-request.ts";
import { writeMetadataResponse, type MetadataResponse } from "../protocol/generated/metadata-response.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { ZERO_UUID } from "../protocol/reader.ts";
import type { Broker } from "../broker/broker.ts";
import type { TopicState } from "../broker/topic-manager.ts";
import { isInternalTopic, topicNameError } from "../broker/topic-names.ts";
import { defineHandler, type RequestContext } from "./handler.ts";
import { AuthzError, authorizeCluster, authorizeTopic, authorizedOperations } from "../acl/check.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../acl/types.ts";

const UNSET_AUTHORIZED_OPERATIONS = -2147483648;

export const metadataHandler = defineHandler({
  apiKey: 3,
  name: "Metadata",
  minVersion: 4,
  maxVersion: 12,
  readRequest: readMetadataRequest,
  writeResponse: writeMetadataResponse,
  async handle(ctx, req): Promise<MetadataResponse> {
    const { broker, apiVersion, conn } = ctx;
    const ops = req.includeTopicAuthorizedOperations === true ? ctx : null;
    // Topic names became nullable in responses only in v12; older versions echo "" instead.
    const nameOrEmpty = (name: string | null) => (name === null && apiVersion < 12 ? "" : name);
    const topics: MetadataResponse["topics"] = [];
    if (req.topics === null) {
      for (const t of broker.topics.all()) if (authorizeTopic(ctx, AclOperation.DESCRIBE, t.record.name)) topics.push(describeTopic(broker, t, ops));
    } else {
      for (const requested of req.topics) {
        const name = requested.name ?? null;
        let state: TopicState | undefined;
        if (name !== null) {
          const invalid = topicNameError(name);
          if (invalid) {
            topics.push(topicError(name, ZERO_UUID, ErrorCode.INVALID_TOPIC_EXCEPTION));
            continue;
          }
          state = broker.topics.get(name);
        } else if (requested.topicId && requested.topicId !== ZERO_UUID) state = broker.topics.getById(requested.topicId);
        const describable = name !== null ? authorizeTopic(ctx, AclOperation.DESCRIBE, name) : !state || authorizeTopic(ctx, AclOperation.DESCRIBE, state.record.name);
        if (!describable) {
          if (name !== null) topics.push(topicError(name, ZERO_UUID, AuthzError.TOPIC_AUTHORIZATION_FAILED));
          else topics.push(topicError(nameOrEmpty(null), requested.topicId ?? ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_ID));
          continue;
        }
        if (!state && name !== null && req.allowAutoTopicCreation !== false && broker.config.autoCreateTopics && !isInternalTopic(name)) {
          if (!authorizeCluster(ctx, AclOperation.CREATE) && !authorizeTopic(ctx, AclOperation.CREATE, name)) {
            topics.push(topicError(name, ZERO_UUID, AuthzError.TOPIC_AUTHORIZATION_FAILED));
            continue;
          }
          const created = await broker.topics.autoCreate(name);
          if ("record" in created) state = created;
          else {
            topics.push(topicError(name, requested.topicId ?? ZERO_UUID, created.errorCode));
            continue;
          }
        }
        if (state) topics.push(describeTopic(broker, state, ops));
        else if (name !== null) topics.push(topicError(name, ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
        else topics.push(topicError(nameOrEmpty(null), requested.topicId ?? ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_ID));
      }
    }
    return {
      throttleTimeMs: 0,
      // The endpoint of the listener this client came through (Kafka answers per listener name).
      brokers: [{ nodeId: broker.nodeId, ...(conn.listener?.advertised ?? broker.advertised), rack: broker.config.rack }],
      clusterId: broker.clusterId,
      controllerId: broker.nodeId,
      topics,
      clusterAuthorizedOperations: req.includeClusterAuthorizedOperations === true
        ? authorizedOperations(ctx, ResourceType.CLUSTER, CLUSTER_NAME)
        : UNSET_AUTHORIZED_OPERATIONS,
    };
  },
});

function topicError(name: string | null, topicId: string, errorCode: number): MetadataResponse["topics"][number] {
  return { errorCode, name, topicId, isInternal: false, partitions: [], topicAuthorizedOperations: UNSET_AUTHORIZED_OPERATIONS };
}

/** `ops` is the request context when the client asked for the topic's authorized operations. */
function describeTopic(broker: Broker, t: TopicState, ops: RequestContext | null): MetadataResponse["topics"][number] {
  const node = broker.nodeId;
  return {
    errorCode: ErrorCode.NONE,
    name: t.record.name,
    topicId: t.record.id,
    isInternal: isInternalTopic(t.record.name),
    partitions: t.logs.map((_, i) => ({
      errorCode: ErrorCode.NONE,
      partitionIndex: i,
      leaderId: node,
      leaderEpoch: 0,
      replicaNodes: [node],
      isrNodes: [node],
      offlineReplicas: [],
    })),
    topicAuthorizedOperations: ops ? authorizedOperations(ops, ResourceType.TOPIC, t.record.name) : UNSET_AUTHORIZED_OPERATIONS,
  };
}
