/**
 * DescribeProducers (key 61), v0. The idempotent producers each partition knows (id, epoch, last
 * sequence, last timestamp), read from the partition log's producer state. READ on the topic is
 * required (else TOPIC_AUTHORIZATION_FAILED per partition), as Kafka.
 */
import { readDescribeProducersRequest } from "../protocol/generated/describe-producers-request.ts";
import { writeDescribeProducersResponse, type DescribeProducersResponse } from "../protocol/generated/describe-producers-response.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { defineHandler } from "./handler.ts";
import { AuthzError, authorizeTopic } from "../acl/check.ts";
import { AclOperation } from "../acl/types.ts";

export const describeProducersHandler = defineHandler({
  apiKey: 61,
  name: "DescribeProducers",
  minVersion: 0,
  maxVersion: 0,
  readRequest: readDescribeProducersRequest,
  writeResponse: writeDescribeProducersResponse,
  handle(ctx, req): DescribeProducersResponse {
    const { broker } = ctx;
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((i) => {
          if (!authorizeTopic(ctx, AclOperation.READ, t.name)) return { partitionIndex: i, errorCode: AuthzError.TOPIC_AUTHORIZATION_FAILED, errorMessage: null, activeProducers: [] };
          const log = broker.topics.partition(t.name, i);
          if (!log) return { partitionIndex: i, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null, activeProducers: [] };
          return { partitionIndex: i, errorCode: ErrorCode.NONE, errorMessage: null, activeProducers: log.activeProducers() };
        }),
      })),
    };
  },
});
