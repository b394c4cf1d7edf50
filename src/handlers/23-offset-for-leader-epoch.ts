/**
 * OffsetForLeaderEpoch (key 23), v2-4 (Kafka 4 removed v0-1). A single node has only ever had leader
 * epoch 0, so any requested epoch >= 0 ends at the log end offset; a current_leader_epoch other than
 * -1 or 0 is fenced (older) or unknown (newer), as Kafka would answer. DESCRIBE on the topic is
 * required (else TOPIC_AUTHORIZATION_FAILED per partition).
 */
import { readOffsetForLeaderEpochRequest } from "../protocol/generated/offset-for-leader-epoch-request.ts";
import { writeOffsetForLeaderEpochResponse, type OffsetForLeaderEpochResponse } from "../protocol/generated/offset-for-leader-epoch-response.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { defineHandler } from "./handler.ts";
import { AuthzError, authorizeTopic } from "../acl/check.ts";
import { AclOperation } from "../acl/types.ts";

const LEADER_EPOCH = 0;

export const offsetForLeaderEpochHandler = defineHandler({
  apiKey: 23,
  name: "OffsetForLeaderEpoch",
  minVersion: 2,
  maxVersion: 4,
  readRequest: readOffsetForLeaderEpochRequest,
  writeResponse: writeOffsetForLeaderEpochResponse,
  handle(ctx, req): OffsetForLeaderEpochResponse {
    const { broker } = ctx;
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((p) => {
          if (!authorizeTopic(ctx, AclOperation.DESCRIBE, t.topic)) return { errorCode: AuthzError.TOPIC_AUTHORIZATION_FAILED, partition: p.partition, leaderEpoch: -1, endOffset: -1 };
          const log = broker.topics.partition(t.topic, p.partition);
          const answer = (errorCode: number, leaderEpoch = -1, endOffset = -1) => ({ errorCode, partition: p.partition, leaderEpoch, endOffset });
          if (!log) return answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
          const current = p.currentLeaderEpoch ?? -1;
          if (current > LEADER_EPOCH) return answer(ErrorCode.UNKNOWN_LEADER_EPOCH);
          if (current !== -1 && current < LEADER_EPOCH) return answer(ErrorCode.FENCED_LEADER_EPOCH);
          if (p.leaderEpoch < LEADER_EPOCH) return answer(ErrorCode.NONE, -1, -1);
          return answer(ErrorCode.NONE, LEADER_EPOCH, log.logEndOffset);
        }),
      })),
    };
  },
});
