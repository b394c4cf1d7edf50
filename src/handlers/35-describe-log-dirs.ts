/**
 * DescribeLogDirs (key 35), v1-4 (Kafka 4 removed v0). One log dir, with per-partition sizes and,
 * from v4, the file system's total and usable bytes. offset_lag is 0 (no future replicas).
 * DESCRIBE on the cluster is required: without it the results are empty and, v3+, the top-level
 * error is CLUSTER_AUTHORIZATION_FAILED, as Kafka.
 */
import { statfsSync } from "node:fs";
import { resolve } from "node:path";
import { readDescribeLogDirsRequest } from "../protocol/generated/describe-log-dirs-request.ts";
import { writeDescribeLogDirsResponse, type DescribeLogDirsResponse } from "../protocol/generated/describe-log-dirs-response.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { defineHandler } from "./handler.ts";
import { AuthzError, authorizeCluster } from "../acl/check.ts";
import { AclOperation } from "../acl/types.ts";

export const describeLogDirsHandler = defineHandler({
  apiKey: 35,
  name: "DescribeLogDirs",
  minVersion: 1,
  maxVersion: 4,
  readRequest: readDescribeLogDirsRequest,
  writeResponse: writeDescribeLogDirsResponse,
  handle(ctx, req): DescribeLogDirsResponse {
    const { broker } = ctx;
    if (!authorizeCluster(ctx, AclOperation.DESCRIBE)) return { throttleTimeMs: 0, errorCode: AuthzError.CLUSTER_AUTHORIZATION_FAILED, results: [] };
    const topics: DescribeLogDirsResponse["results"][number]["topics"] = [];
    const describe = (name: string, partitionIds: number[] | null) => {
      const state = broker.topics.get(name);
      if (!state) return;
      const ids = partitionIds ?? state.logs.map((_, i) => i);
      const partitions = ids
        .filter((i) => state.logs[i] !== undefined)
        .map((i) => ({ partitionIndex: i, partitionSize: state.logs[i]!.sizeInBytes(), offsetLag: 0, isFutureKey: false }));
      topics.push({ name, partitions });
    };
    if (req.topics === null) for (const t of broker.topics.all()) describe(t.record.name, null);
    else for (const t of req.topics) describe(t.topic, t.partitions);
    let totalBytes = -1;
    let usableBytes = -1;
    try {
      const fs = statfsSync(broker.config.dataDir);
      totalBytes = fs.blocks * fs.bsize;
      usableBytes = fs.bavail * fs.bsize;
    } catch {
      // leave -1: unknown, as Kafka reports when it cannot tell
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      results: [{ errorCode: ErrorCode.NONE, logDir: resolve(broker.config.dataDir), topics, totalBytes, usableBytes }],
    };
  },
});
