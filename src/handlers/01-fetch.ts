/**
 * Fetch (key 1), v4-17 (Kafka 4 removed v0-3). Topics by name up to v12, by topic id from v13.
 * Returns stored batches as slices (never decoded), up to partition_max_bytes per partition and
 * max_bytes overall, but always at least one whole batch for the first partition with data (KIP-74).
 * Long-poll: with less than min_bytes available the request waits in the purgatory until an append
 * makes enough durable data visible or max_wait_ms passes. Incremental fetch sessions (KIP-227).
 * Tiered offsets (below the first local segment) are read from the object store asynchronously
 * (ranged GETs through the chunk cache, tiering/); only this request waits for them, for at most
 * remote.fetch.max.wait.ms in all (KIP-1018): a partition whose remote read is still running then
 * is answered with no records (the read goes on and fills the chunk cache for the retry), so a slow
 * store never holds up the other partitions of the request. A store failure answers that partition
 * with KAFKA_STORAGE_ERROR (retriable) instead of failing the request.
 * Skipped: follower fetching (replica_id/replica_state ignored: a single node has no followers),
 * rack-aware preferred read replicas, diverging-epoch detection (one leader epoch, 0).
 */
import { readFetchRequest, type FetchRequest } from "../protocol/generated/fetch-request.ts";
import { writeFetchResponse, type FetchResponse } from "../protocol/generated/fetch-response.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import type { PartitionLog, ReadResult as LogRead } from "../log/partition-log.ts";
import type { Broker } from "../broker/broker.ts";
import { sessionKey, type FetchSession, type SessionPartition } from "../broker/fetch-sessions.ts";
import { defineHandler } from "./handler.ts";
import { AuthzError, authorizeTopic } from "../acl/check.ts";
import { AclOperation } from "../acl/types.ts";
import { timerDelay } from "../util/long-timeout.ts";
import { giveBack } from "../util/lent-views.ts";

type TopicResponse = FetchResponse["responses"][number];
type PartitionResponse = TopicResponse["partitions"][number];

const EMPTY = new Uint8Array(0);
const FIRST_TOPIC_ID_VERSION = 13;
const MAX_WAIT_CAP_MS = 30_000;

interface Target {
  entry: SessionPartition;
  /** Unknown topic (name or id) errors are decided when the target is resolved. */
  resolveError: number;
}

export const fetchHandler = defineHandler({
  apiKey: 1,
  name: "Fetch",
  minVersion: 4,
  maxVersion: 17,
  readRequest: readFetchRequest,
  writeResponse: writeFetchResponse,
  async handle(ctx, req) {
    const { broker, apiVersion } = ctx;
    const now = Date.now();
    const useIds = apiVersion >= FIRST_TOPIC_ID_VERSION;
    const sessionId = apiVersion >= 7 ? req.sessionId ?? 0 : 0;
    const sessionEpoch = apiVersion >= 7 ? req.sessionEpoch ?? -1 : -1;

    let session: FetchSession | null = null;
    let incremental = false;
    if (sessionId !== 0 && sessionEpoch > 0) {
      const found = broker.fetchSessions.get(sessionId);
      if (!found) return sessionError(ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
      if (found.nextEpoch !== sessionEpoch) return sessionError(ErrorCode.INVALID_FETCH_SESSION_EPOCH);
      session = found;
      incremental = true;
    } else {
      if (sessionId !== 0) broker.fetchSessions.remove(sessionId);
      if (sessionEpoch === 0) session = broker.fetchSessions.create(now);
    }

    const requested = requestedPartitions(broker, req, useIds);
    let entries: SessionPartition[];
    if (session) {
      if (!incremental) session.partitions.clear();
      for (const e of requested) {
        const key = sessionKey(useIds ? e.topicId : e.topic, e.partition);
        const existing = session.partitions.get(key);
        if (existing) {
          existing.fetchOffset = e.fetchOffset;
          existing.maxBytes = e.maxBytes;
        } else session.partitions.set(key, e);
      }
      for (const forgotten of req.forgottenTopicsData ?? []) {
        const name = useIds ? forgotten.topicId ?? "" : forgotten.topic ?? "";
        for (const p of forgotten.partitions) session.partitions.delete(sessionKey(name, p));
      }
      if (incremental) session.nextEpoch = session.nextEpoch >= 0x7fffffff ? 1 : session.nextEpoch + 1;
      session.lastUsedMs = now;
      entries = [...session.partitions.values()];
    } else {
      entries = requested;
    }

    const targets = entries.map((entry) => resolveTarget(broker, entry, useIds));
    for (const t of targets) if (t.entry.topic !== "" && !authorizeTopic(ctx, AclOperation.READ, t.entry.topic)) t.resolveError = AuthzError.TOPIC_AUTHORIZATION_FAILED;
    const maxBytes = req.maxBytes ?? 0x7fffffff;
    const wait = Math.min(req.maxWaitMs, MAX_WAIT_CAP_MS);
    // Whether to wait is decided without reading: `enoughData` is true as soon as any partition has
    // data past its offset (min_bytes <= 1) or is in error (unknown, unauthorized, out of range), the
    // cases in which a read would answer at once. So a caught-up long-poll consumer builds its
    // per-partition responses once, after the wait, not also before it (half the allocations of a
    // many-partition fetch, which showed as GC pauses in the tail).
    if (wait > 0 && req.minBytes > 0 && targets.length > 0 && !enoughData(broker, targets, req.minBytes)) {
      const logs = targets.map((t) => logOf(broker, t)).filter((l): l is PartitionLog => l !== undefined);
      await broker.purgatory.wait(logs, Date.now() + wait, () => enoughData(broker, targets, req.minBytes));
    }
    const responsePartitions = await readAll(broker, targets, maxBytes);

    // Incremental responses carry only partitions with news; full responses carry every partition.
    const included = incremental
      ? responsePartitions.filter(
          ({ entry, response }) =>
            (response.records?.length ?? 0) > 0 ||
            response.errorCode !== ErrorCode.NONE ||
            response.highWatermark !== entry.lastHighWatermark ||
            response.logStartOffset !== entry.lastLogStartOffset,
        )
      : responsePartitions;
    for (const { entry, response } of included) {
      entry.lastHighWatermark = response.highWatermark;
      entry.lastLogStartOffset = response.logStartOffset ?? -1;
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      sessionId: session?.id ?? 0,
      responses: groupByTopic(included, useIds),
    } satisfies FetchResponse;
  },
});

/**
 * A generous estimate of the bytes a writer copies for this response body: every records set below
 * `copyBelow` bytes (larger ones become chunks of their own) plus an allowance for each topic's and
 * partition's fixed fields. The response is framed into a buffer of this size, so it is written
 * without growing; an underestimate only costs a copy-on-grow.
 */
export function fetchResponseSizeHint(res: FetchResponse, copyBelow: number): number {
  let n = 32;
  for (const t of res.responses) {
    n += 40 + (t.topic?.length ?? 0) * 3;
    for (const p of t.partitions) {
      const len = p.records?.length ?? 0;
      // v12+ fixed fields are about 45 bytes; tagged fields (leader, epochs) stay under 64 more.
      n += 64 + (len < copyBelow ? len : 0) + (p.abortedTransactions?.length ?? 0) * 16;
    }
  }
  for (const e of res.nodeEndpoints ?? []) n += 32 + (e.host.length + (e.rack?.length ?? 0)) * 3;
  return n;
}

function sessionError(errorCode: number): FetchResponse {
  return { throttleTimeMs: 0, errorCode, sessionId: 0, responses: [] };
}

function requestedPartitions(broker: Broker, req: FetchRequest, useIds: boolean): SessionPartition[] {
  const out: SessionPartition[] = [];
  for (const t of req.topics) {
    let topic = t.topic ?? "";
    let topicId = t.topicId ?? "";
    if (useIds) topic = broker.topics.getById(topicId)?.record.name ?? "";
    else topicId = broker.topics.get(topic)?.record.id ?? "";
    for (const p of t.partitions) {
      out.push({
        topic,
        topicId,
        partition: p.partition,
        fetchOffset: p.fetchOffset,
        maxBytes: p.partitionMaxBytes,
        lastHighWatermark: -1,
        lastLogStartOffset: -1,
      });
    }
  }
  return out;
}

function resolveTarget(broker: Broker, entry: SessionPartition, useIds: boolean): Target {
  const state = useIds ? broker.topics.getById(entry.topicId) : broker.topics.get(entry.topic);
  if (!state) return { entry, resolveError: useIds ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
  if (!state.logs[entry.partition]) return { entry, resolveError: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
  return { entry, resolveError: ErrorCode.NONE };
}

function logOf(broker: Broker, t: Target): PartitionLog | undefined {
  if (t.resolveError !== ErrorCode.NONE) return undefined;
  const state = t.entry.topicId ? broker.topics.getById(t.entry.topicId) : broker.topics.get(t.entry.topic);
  return state?.logs[t.entry.partition];
}

function enoughData(broker: Broker, targets: Target[], minBytes: number): boolean {
  let bytes = 0;
  for (const t of targets) {
    const log = logOf(broker, t);
    if (!log) return true; // the topic vanished: answer now with the error
    if (t.entry.fetchOffset < log.logStartOffset || t.entry.fetchOffset > log.logEndOffset) return true;
    if (log.highWatermark <= t.entry.fetchOffset) continue;
    if (minBytes <= 1) return true;
    const read = log.read(t.entry.fetchOffset, t.entry.maxBytes);
    // tiered data is there (reading it is async), or the read fails: answer now
    if (read.remote === true || read.errorCode !== ErrorCode.NONE) return true;
    bytes += read.records?.length ?? 0;
    if (read.records !== null) giveBack(read.records); // only its length was needed
    if (bytes >= minBytes) return true;
  }
  return false;
}

interface ReadResult {
  entry: SessionPartition;
  response: PartitionResponse;
}

async function readAll(broker: Broker, targets: Target[], maxBytes: number): Promise<ReadResult[]> {
  let budget = maxBytes;
  let first = true;
  const remoteDeadline = Date.now() + (broker.tier?.config.remoteFetchMaxWaitMs ?? 0);
  const out: ReadResult[] = [];
  // Synchronous unless a partition needs the remote tier: no promise and microtask per partition
  // (a 100-partition fetch awaited 100 times).
  for (const t of targets) {
    const r = readOne(t);
    out.push(r instanceof Promise ? await r : r);
  }
  return out;

  function readOne(t: Target): ReadResult | Promise<ReadResult> {
    const { entry } = t;
    const base: PartitionResponse = {
      partitionIndex: entry.partition,
      errorCode: t.resolveError,
      highWatermark: -1,
      lastStableOffset: -1,
      logStartOffset: -1,
      abortedTransactions: null,
      preferredReadReplica: -1,
      records: EMPTY,
    };
    const log = logOf(broker, t);
    if (!log) return { entry, response: base };
    base.highWatermark = log.highWatermark;
    base.lastStableOffset = log.highWatermark;
    base.logStartOffset = log.logStartOffset;
    if (entry.fetchOffset < log.logStartOffset || entry.fetchOffset > log.logEndOffset) {
      base.errorCode = ErrorCode.OFFSET_OUT_OF_RANGE;
      return { entry, response: base };
    }
    if (entry.fetchOffset >= log.highWatermark || (budget <= 0 && !first)) return { entry, response: base };
    // KIP-74: the first partition with data may exceed the limits so a large batch can always make progress.
    const limit = first ? Math.max(1, Math.min(entry.maxBytes, budget)) : Math.min(entry.maxBytes, budget);
    const read = log.read(entry.fetchOffset, limit);
    if (read.remote === true) {
      return readRemote(broker, log, entry.fetchOffset, limit, read, remoteDeadline).then(() => finish(entry, base, read, limit));
    }
    return finish(entry, base, read, limit);
  }

  function finish(entry: SessionPartition, base: PartitionResponse, read: LogRead, limit: number): ReadResult {
    if (read.errorCode !== ErrorCode.NONE) {
      base.errorCode = read.errorCode;
      return { entry, response: base };
    }
    // The log always returns at least one whole batch; past the first partition that may not fit.
    if (!first && read.records && read.records.length > limit) {
      giveBack(read.records);
      return { entry, response: base };
    }
    if (read.records && read.records.length > 0) {
      base.records = read.records;
      budget -= read.records.length;
      first = false;
    }
    return { entry, response: base };
  }
}

const REMOTE_TIMED_OUT = Symbol("remote read still running");

/**
 * Fills `read` from the remote tier, waiting until `deadline` at most (then: no records, no error);
 * a store failure becomes KAFKA_STORAGE_ERROR for this partition.
 */
async function readRemote(broker: Broker, log: PartitionLog, offset: number, maxBytes: number, read: LogRead, deadline: number): Promise<void> {
  if (broker.tier === null) {
    read.errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
    return;
  }
  const pending = broker.tier.read(log, offset, maxBytes, log.highWatermark);
  pending.catch(() => {}); // a read abandoned at the deadline may still fail later
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<typeof REMOTE_TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(REMOTE_TIMED_OUT), timerDelay(deadline - Date.now()));
  });
  try {
    const result = await Promise.race([pending, timeout]);
    read.records = result === REMOTE_TIMED_OUT ? new Uint8Array(0) : result;
  } catch (e) {
    broker.log(`remote read of ${log.topic}-${log.partition} at ${offset} failed: ${(e as Error).message}`);
    read.errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
    read.records = null;
  } finally {
    clearTimeout(timer);
  }
}

function groupByTopic(results: ReadResult[], useIds: boolean): TopicResponse[] {
  const out: TopicResponse[] = [];
  let current: TopicResponse | null = null;
  let currentKey = "";
  for (const { entry, response } of results) {
    const key = useIds ? entry.topicId : entry.topic;
    if (!current || key !== currentKey) {
      current = useIds ? { topicId: entry.topicId, partitions: [] } : { topic: entry.topic, partitions: [] };
      currentKey = key;
      out.push(current);
    }
    current.partitions.push(response);
  }
  return out;
}
