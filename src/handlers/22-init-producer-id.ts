/**
 * InitProducerId (key 22), v0-5, for idempotent producers: a fresh producer id with epoch 0, or, when
 * a producer re-initialises with its current id and epoch (KIP-360, v3+), the same id with the next
 * epoch. Ids are reserved durably in blocks, so no id is handed out twice across restarts.
 * Skipped: transactional ids (transactions are not served yet; answered with INVALID_REQUEST).
 */
import { readInitProducerIdRequest } from "../protocol/generated/init-producer-id-request.ts";
import { writeInitProducerIdResponse, type InitProducerIdResponse } from "../protocol/generated/init-producer-id-response.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { defineHandler } from "./handler.ts";
import { AuthzError, authorizeCluster, authorizeTopic } from "../acl/check.ts";
import { AclOperation } from "../acl/types.ts";

export const initProducerIdHandler = defineHandler({
  apiKey: 22,
  name: "InitProducerId",
  minVersion: 0,
  maxVersion: 5,
  readRequest: readInitProducerIdRequest,
  writeResponse: writeInitProducerIdResponse,
  async handle(ctx, req): Promise<InitProducerIdResponse> {
    const { broker } = ctx;
    // KIP-679: an idempotent producer needs IDEMPOTENT_WRITE on the cluster or WRITE on some topic.
    if (req.transactionalId === null && !authorizeCluster(ctx, AclOperation.IDEMPOTENT_WRITE) && ![...broker.topics.all()].some((t) => authorizeTopic(ctx, AclOperation.WRITE, t.record.name))) {
      return { throttleTimeMs: 0, errorCode: AuthzError.CLUSTER_AUTHORIZATION_FAILED, producerId: -1, producerEpoch: -1 };
    }
    if (req.transactionalId !== null) {
      broker.log(`InitProducerId for transactional id ${req.transactionalId}: transactions are not supported`);
      return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, producerId: -1, producerEpoch: -1 };
    }
    try {
      const pid = req.producerId ?? -1;
      const epoch = req.producerEpoch ?? -1;
      const assigned = pid >= 0 ? await broker.producerIds.bump(pid, epoch) : { producerId: await broker.producerIds.allocate(), epoch: 0 };
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: assigned.producerId, producerEpoch: assigned.epoch };
    } catch (e) {
      broker.log(`InitProducerId failed: ${(e as Error).message}`);
      return { throttleTimeMs: 0, errorCode: ErrorCode.KAFKA_STORAGE_ERROR, producerId: -1, producerEpoch: -1 };
    }
  },
});
