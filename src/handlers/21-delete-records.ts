/**
 * DeleteRecords (key 21), v0-2. Moves a partition's log start offset (persisted) and drops whole
 * segments below it; offset -1 means "up to the high watermark". An offset past the high watermark
 * is OFFSET_OUT_OF_RANGE, as in Kafka. For tiered partitions the start offset covers the remote
 * part too; remote segments below it are dropped from the manifest and their objects deleted by
 * the tiering loop, which is woken here. DELETE on the topic is required (else
 * TOPIC_AUTHORIZATION_FAILED per partition, checked before existence, as Kafka).
 */
import { readDeleteRecordsRequest } from "../protocol/generated/delete-records-request.ts";
import { writeDeleteRecordsResponse, type DeleteRecordsResponse } from "../protocol/generated/delete-records-response.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { defineHandler } from "./handler.ts";
import { AuthzError, authorizeTopic } from "../acl/check.ts";
import { AclOperation } from "../acl/types.ts";

export const deleteRecordsHandler = defineHandler({
  apiKey: 21,
  name: "DeleteRecords",
  minVersion: 0,
  maxVersion: 2,
  readRequest: readDeleteRecordsRequest,
  writeResponse: writeDeleteRecordsResponse,
  async handle(ctx, req) {
    const { broker } = ctx;
    const topics: DeleteRecordsResponse["topics"] = [];
    for (const t of req.topics) {
      const partitions: DeleteRecordsResponse["topics"][number]["partitions"] = [];
      if (!authorizeTopic(ctx, AclOperation.DELETE, t.name)) {
        for (const p of t.partitions) partitions.push({ partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: AuthzError.TOPIC_AUTHORIZATION_FAILED });
        topics.push({ name: t.name, partitions });
        continue;
      }
      for (const p of t.partitions) {
        const log = broker.topics.partition(t.name, p.partitionIndex);
        if (!log) {
          partitions.push({ partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
          continue;
        }
        const target = p.offset === -1 ? log.highWatermark : p.offset;
        if (target < 0 || target > log.highWatermark) {
          partitions.push({ partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE });
          continue;
        }
        const r = await log.deleteRecordsBefore(target);
        broker.purgatory.notify(log);
        broker.tier?.kick();
        partitions.push({ partitionIndex: p.partitionIndex, lowWatermark: r.lowWatermark, errorCode: r.errorCode });
      }
      topics.push({ name: t.name, partitions });
    }
    return { throttleTimeMs: 0, topics } satisfies DeleteRecordsResponse;
  },
});
