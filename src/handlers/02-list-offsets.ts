/**
 * ListOffsets (key 2), v1-10 (Kafka 4 removed v0). Special timestamps: -1 latest (the high
 * watermark), -2 earliest (log start offset over the whole log, remote included), -3 max timestamp
 * (v7+), -4 earliest local (v8+; the first offset still in local segments), -5 earliest pending
 * upload (v9+; for a tiered topic the first offset not yet in the object store, as Kafka; -1 for a
 * topic that does not tier). Timestamps (and -3) that land in tiered segments are refined with the
 * uploaded time index and batches (async ranged reads, tiering/remote-timestamps.ts); a store
 * failure answers KAFKA_STORAGE_ERROR for that partition. A real timestamp finds the first record whose timestamp reaches it: the log
 * reads record timestamps inside that one uncompressed batch (never on the produce path); for
 * compressed batches the answer is the batch's base offset, never later than Kafka's.
 */
import { readListOffsetsRequest, type ListOffsetsRequest } from "../protocol/generated/list-offsets-request.ts";
import type { PartitionLog } from "../log/partition-log.ts";
import { writeListOffsetsResponse, type ListOffsetsResponse } from "../protocol/generated/list-offsets-response.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { defineHandler } from "./handler.ts";
import { AuthzError, authorizeTopic } from "../acl/check.ts";
import { AclOperation } from "../acl/types.ts";

const LATEST = -1;
const EARLIEST = -2;
const MAX_TIMESTAMP = -3;
const EARLIEST_LOCAL = -4;
const EARLIEST_PENDING_UPLOAD = -5;
const LEADER_EPOCH = 0;

type PartitionResult = ListOffsetsResponse["topics"][number]["partitions"][number];
type PartitionRequest = ListOffsetsRequest["topics"][number]["partitions"][number];

export const listOffsetsHandler = defineHandler({
  apiKey: 2,
  name: "ListOffsets",
  minVersion: 1,
  maxVersion: 10,
  readRequest: readListOffsetsRequest,
  writeResponse: writeListOffsetsResponse,
  async handle(ctx, req): Promise<ListOffsetsResponse> {
    const { broker } = ctx;
    const topics: ListOffsetsResponse["topics"] = [];
    for (const t of req.topics) {
      const partitions: PartitionResult[] = [];
      const describable = authorizeTopic(ctx, AclOperation.DESCRIBE, t.name);
      for (const p of t.partitions) {
        if (!describable) partitions.push({ partitionIndex: p.partitionIndex, errorCode: AuthzError.TOPIC_AUTHORIZATION_FAILED, timestamp: -1, offset: -1, leaderEpoch: -1 });
        else partitions.push(await answerPartition(t.name, p));
      }
      topics.push({ name: t.name, partitions });
    }
    return { throttleTimeMs: 0, topics };

    async function answerPartition(topic: string, p: PartitionRequest): Promise<PartitionResult> {
      const answer = (errorCode: number, offset = -1, timestamp = -1): PartitionResult => ({
        partitionIndex: p.partitionIndex, errorCode, timestamp, offset, leaderEpoch: errorCode === ErrorCode.NONE && offset >= 0 ? LEADER_EPOCH : -1,
      });
      const log = broker.topics.partition(topic, p.partitionIndex);
      if (!log) return answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      const current = p.currentLeaderEpoch ?? -1;
      if (current > LEADER_EPOCH) return answer(ErrorCode.UNKNOWN_LEADER_EPOCH);
      if (current !== -1 && current < LEADER_EPOCH) return answer(ErrorCode.FENCED_LEADER_EPOCH);
      switch (p.timestamp) {
        case LATEST:
          return answer(ErrorCode.NONE, log.highWatermark);
        case EARLIEST:
          return answer(ErrorCode.NONE, log.logStartOffset);
        case EARLIEST_LOCAL:
          return answer(ErrorCode.NONE, log.localLogStartOffset);
        case EARLIEST_PENDING_UPLOAD: {
          const tier = broker.tier?.tierOf(log);
          if (tier === undefined || !tier.settings().remoteStorageEnable) return answer(ErrorCode.NONE, -1);
          return answer(ErrorCode.NONE, Math.max(tier.remoteEndOffset, log.logStartOffset));
        }
        case MAX_TIMESTAMP: {
          let max = log.maxTimestamp();
          if (max && max.offset < log.localLogStartOffset) max = (await remoteLookup(log, max.timestamp)) ?? max;
          return max ? answer(ErrorCode.NONE, max.offset, max.timestamp) : answer(ErrorCode.NONE);
        }
        default: {
          if (p.timestamp < 0) return answer(ErrorCode.INVALID_REQUEST);
          let found: { offset: number; timestamp: number } | null | undefined = log.offsetForTimestamp(p.timestamp);
          if (found && found.offset < log.localLogStartOffset) found = await remoteLookup(log, p.timestamp);
          if (found === undefined) return answer(ErrorCode.KAFKA_STORAGE_ERROR);
          if (!found || found.offset >= log.highWatermark) return answer(ErrorCode.NONE);
          return answer(ErrorCode.NONE, found.offset, found.timestamp);
        }
      }
    }

    /** The exact answer from the remote tier; undefined when the store failed. */
    async function remoteLookup(log: PartitionLog, ts: number): Promise<{ offset: number; timestamp: number } | null | undefined> {
      const tier = broker.tier?.tierOf(log);
      if (tier === undefined) return null;
      try {
        return await tier.offsetForTimestamp(ts);
      } catch (e) {
        broker.log(`remote timestamp lookup in ${log.topic}-${log.partition} failed: ${(e as Error).message}`);
        return undefined;
      }
    }
  },
});
