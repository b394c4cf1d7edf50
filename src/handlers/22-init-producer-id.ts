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

export const initProducerIdHandler = defineHandler({
  apiKey: 22,
  name: "InitProducerId",
  minVersion: 0,
  maxVersion: 5,
  readRequest: readInitProducerIdRequest,
  writeResponse: writeInitProducerIdResponse,
  async handle({ broker }, req): Promise<InitProducerIdResponse> {
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
