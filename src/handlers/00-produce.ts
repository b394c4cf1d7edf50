/**
 * Produce (key 0), advertised v0-11 but v0-2 answered with UNSUPPORTED_VERSION per partition: Kafka 4
 * still advertises v0 because older librdkafka derives codec support from the Produce version range
 * (KAFKA-18659), while refusing the old message formats those versions imply.
 *
 * The record batches are never decoded: the partition log validates header, length and CRC-32C,
 * patches baseOffset in place and appends the received bytes. acks=all waits for the fsync that
 * covers the append (group commit); acks=1 answers once the bytes are in the kernel; acks=0 answers nothing and closes
 * the connection if a partition failed, so the client notices.
 * Skipped: transactions (a transactional produce gets INVALID_TXN_STATE; see COMPATIBILITY.md).
 */
import { readProduceRequest } from "../protocol/generated/produce-request.ts";
import { writeProduceResponse, type ProduceResponse } from "../protocol/generated/produce-response.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { SETTLED, type AppendResult } from "../log/partition-log.ts";
import { CLOSE_CONNECTION, NO_RESPONSE, defineHandler } from "./handler.ts";
import { AuthzError, authorizeTopic } from "../acl/check.ts";
import { AclOperation } from "../acl/types.ts";
import { framePool } from "../net/frame-pool.ts";

type PartitionResponse = ProduceResponse["responses"][number]["partitionResponses"][number];

const FIRST_SUPPORTED_VERSION = 3;

export const produceHandler = defineHandler({
  apiKey: 0,
  name: "Produce",
  minVersion: 0,
  maxVersion: 11,
  readRequest: readProduceRequest,
  writeResponse: writeProduceResponse,
  responseSizeHint: produceResponseSizeHint,
  async handle(ctx, req) {
    const { broker, apiVersion } = ctx;
    const acks = req.acks;
    const now = Date.now();
    const pending: { response: PartitionResponse; durable: Promise<void>; what: string }[] = [];
    let anyError = false;
    const responses: ProduceResponse["responses"] = req.topicData.map((topic) => {
      const state = broker.topics.get(topic.name);
      const writable = authorizeTopic(ctx, AclOperation.WRITE, topic.name);
      return {
        name: topic.name,
        partitionResponses: topic.partitionData.map((p): PartitionResponse => {
          const fail = (errorCode: number, errorMessage: string | null = null): PartitionResponse => {
            anyError = true;
            return { index: p.index, errorCode, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, recordErrors: [], errorMessage };
          };
          if (apiVersion < FIRST_SUPPORTED_VERSION) return fail(ErrorCode.UNSUPPORTED_VERSION, "Produce v0-v2 (message format v0/v1) is not supported");
          if (acks !== 0 && acks !== 1 && acks !== -1) return fail(ErrorCode.INVALID_REQUIRED_ACKS);
          if (!writable) return fail(AuthzError.TOPIC_AUTHORIZATION_FAILED, "Not authorized to access topics: [" + topic.name + "]");
          const log = state?.logs[p.index];
          if (!log) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this topic-partition.");
          if (req.transactionalId !== null && req.transactionalId !== undefined) {
            return fail(ErrorCode.INVALID_TXN_STATE, "Transactions are not supported by this broker yet");
          }
          if (!p.records || p.records.length === 0) return fail(ErrorCode.CORRUPT_MESSAGE, "Produce request carries no record batch");
          if (hasSeveralBatches(p.records)) return fail(ErrorCode.INVALID_RECORD, "Produce requests with version 3 or higher must contain exactly one record batch");
          let result: AppendResult;
          try {
            result = log.append(p.records, now);
          } catch (e) {
            broker.log(`append to ${topic.name}-${p.index} failed: ${(e as Error).message}`);
            return fail(ErrorCode.KAFKA_STORAGE_ERROR, "Storage error");
          }
          // The request frame may be a reused pooled buffer (src/net/frame-pool.ts). An asynchronous
          // segment backend reads the appended bytes until its write completes, which is before the
          // append's `durable` settles; hold the frame until then (acks=0/1 answer earlier).
          // SETTLED: the bytes were written synchronously and nothing is pending (flush-interval
          // logs on the js backend), so there is nothing to hold or wait for: at 1000 partitions
          // that saves a hold, a promise reaction and a Promise.all entry per partition.
          const settled = result.durable === SETTLED;
          if (!settled) {
            const release = framePool.hold(p.records);
            if (release !== null) result.durable.then(release, release);
          }
          if (result.errorCode !== ErrorCode.NONE) {
            result.durable.catch(() => {});
            anyError = true;
            return {
              index: p.index,
              errorCode: result.errorCode,
              baseOffset: -1,
              logAppendTimeMs: -1,
              logStartOffset: result.logStartOffset,
              recordErrors: (result.recordErrors ?? []).map((e) => ({ batchIndex: e.batchIndex, batchIndexErrorMessage: e.message })),
              errorMessage: result.errorMessage ?? null,
            };
          }
          const response: PartitionResponse = {
            index: p.index,
            errorCode: ErrorCode.NONE,
            baseOffset: result.baseOffset,
            logAppendTimeMs: result.logAppendTime,
            logStartOffset: result.logStartOffset,
            recordErrors: [],
            errorMessage: null,
          };
          if (settled) {
            // Nothing pending: with SETTLED the bytes are in the kernel already (acks=1 holds too).
          } else if (acks === -1) {
            pending.push({ response, durable: result.durable, what: "fsync failed" });
          } else {
            result.durable.catch((e) => broker.log(`flush of ${topic.name}-${p.index} failed: ${(e as Error).message}`));
            // acks=1: the bytes must be in the kernel (survive a crash of this process), which on
            // the native engine is after the worker wrote them.
            if (acks === 1) pending.push({ response, durable: log.untilWritten(result), what: "write failed" });
          }
          return response;
        }),
      };
    });
    if (acks === 0) return anyError ? CLOSE_CONNECTION : NO_RESPONSE;
    if (pending.length > 0) {
      // Durability argument: the response is built only after every covering fsync resolved; a failed
      // fsync turns that partition into KAFKA_STORAGE_ERROR, so nothing unsynced is acknowledged.
      await Promise.all(
        pending.map(({ response, durable, what }) =>
          durable.catch(() => {
            response.errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
            response.baseOffset = -1;
            response.errorMessage = what;
          }),
        ),
      );
    }
    return { responses, throttleTimeMs: 0 };
  },
});

/**
 * A generous estimate of a Produce response body's size (see ApiHandler.responseSizeHint): a
 * partition's fixed fields take 33-36 bytes in every version, strings at most 3 bytes a character
 * (UTF-8) plus their length. At 1000 partitions the open loop's requests name a dozen partitions
 * each, and framing such an answer from the default 256 bytes grew the buffer twice per request.
 */
export function produceResponseSizeHint(res: ProduceResponse): number {
  let n = 32;
  for (const t of res.responses) {
    n += 16 + t.name.length * 3;
    for (const p of t.partitionResponses) {
      n += 48 + (p.errorMessage?.length ?? 0) * 3;
      for (const e of p.recordErrors ?? []) n += 12 + (e.batchIndexErrorMessage?.length ?? 0) * 3;
    }
  }
  return n;
}

/** Kafka requires exactly one batch per partition from v3 on; the first batch's length tells. */
function hasSeveralBatches(records: Uint8Array): boolean {
  if (records.length < 12) return false; // too short: the log reports it as corrupt
  const batchLength = (records[8]! << 24) | (records[9]! << 16) | (records[10]! << 8) | records[11]!;
  // Below the 49-byte minimum the batch is corrupt, which the log reports as CORRUPT_MESSAGE.
  return batchLength >= 49 && records.length > 12 + batchLength;
}
