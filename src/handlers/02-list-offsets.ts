/**
 * ListOffsets (key 2), v1-10 (Kafka 4 removed v0). Special timestamps: -1 latest (the high
 * watermark), -2 earliest (log start offset over the whole log, remote included), -3 max timestamp
 * (v7+), -4 earliest local (v8+; the first offset still in local segments), -5 earliest pending
 * upload (v9+; for a tiered topic the first offset not yet in the object store, as Kafka; -1 for a
 * topic that does not tier). A real timestamp finds the first record whose timestamp reaches it: the log
 * reads record timestamps inside that one uncompressed batch (never on the produce path); for
 * compressed batches the answer is the batch's base offset, never later than Kafka's.
 */
import { readListOffsetsRequest } from "../protocol/generated/list-offsets-request.ts";
import { writeListOffsetsResponse, type ListOffsetsResponse } from "../protocol/generated/list-offsets-response.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { defineHandler } from "./handler.ts";

const LATEST = -1;
const EARLIEST = -2;
const MAX_TIMESTAMP = -3;
const EARLIEST_LOCAL = -4;
const EARLIEST_PENDING_UPLOAD = -5;
const LEADER_EPOCH = 0;

type PartitionResult = ListOffsetsResponse["topics"][number]["partitions"][number];

export const listOffsetsHandler = defineHandler({
  apiKey: 2,
  name: "ListOffsets",
  minVersion: 1,
  maxVersion: 10,
  readRequest: readListOffsetsRequest,
  writeResponse: writeListOffsetsResponse,
  handle({ broker }, req): ListOffsetsResponse {
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p): PartitionResult => {
          const answer = (errorCode: number, offset = -1, timestamp = -1): PartitionResult => ({
            partitionIndex: p.partitionIndex, errorCode, timestamp, offset, leaderEpoch: errorCode === ErrorCode.NONE && offset >= 0 ? LEADER_EPOCH : -1,
          });
          const log = broker.topics.partition(t.name, p.partitionIndex);
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
              const max = log.maxTimestamp();
              return max ? answer(ErrorCode.NONE, max.offset, max.timestamp) : answer(ErrorCode.NONE);
            }
            default: {
              if (p.timestamp < 0) return answer(ErrorCode.INVALID_REQUEST);
              const found = log.offsetForTimestamp(p.timestamp);
              if (!found || found.offset >= log.highWatermark) return answer(ErrorCode.NONE);
              return answer(ErrorCode.NONE, found.offset, found.timestamp);
            }
          }
        }),
      })),
    };
  },
});
