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
import { defineHandler, type RequestContext } from "./handler.ts";
import { AuthzError, authorizationEnabled, authorizeTopic } from "../acl/check.ts";
import { AclOperation } from "../acl/types.ts";
import { timerDelay } from "../util/long-timeout.ts";
import { giveBack } from "../util/lent-views.ts";

type TopicResponse = FetchResponse["responses"][number];
type PartitionResponse = TopicResponse["partitions"][number];

const EMPTY = new Uint8Array(0);
const FIRST_TOPIC_ID_VERSION = 13;
const MAX_WAIT_CAP_MS = 30_000;

export const fetchHandler = defineHandler({
  apiKey: 1,
  name: "Fetch",
  minVersion: 4,
  maxVersion: 17,
  readRequest: readFetchRequest,
  writeResponse: writeFetchResponse,
  responseSizeHint: fetchResponseSizeHint,
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
    // the session's entries this request names (their fetch offsets may have moved)
    const touched: SessionPartition[] = [];
    if (session) {
      if (!incremental && session.partitions.size > 0) {
        session.partitions.clear();
        session.watched = null;
        session.carry.clear();
        session.seenChange = -1;
      }
      for (const e of requested) {
        const key = sessionKey(useIds ? e.topicId : e.topic, e.partition);
        const existing = session.partitions.get(key);
        if (existing) {
          existing.fetchOffset = e.fetchOffset;
          existing.maxBytes = e.maxBytes;
          touched.push(existing);
        } else {
          session.partitions.set(key, e);
          session.watched = null;
          touched.push(e);
        }
      }
      for (const forgotten of req.forgottenTopicsData ?? []) {
        const name = useIds ? forgotten.topicId ?? "" : forgotten.topic ?? "";
        for (const p of forgotten.partitions) {
          const key = sessionKey(name, p);
          const gone = session.partitions.get(key);
          if (gone === undefined) continue;
          session.partitions.delete(key);
          session.carry.delete(gone);
          session.watched = null;
        }
      }
      if (incremental) session.nextEpoch = session.nextEpoch >= 0x7fffffff ? 1 : session.nextEpoch + 1;
      session.lastUsedMs = now;
    }

    // What this request looks at. An incremental request of a session (no authorizer, topics as
    // when its entries were resolved) looks only at the partitions that can have news: those left
    // with news by the last response, those named now, and those whose log changed since (the
    // broker's log-change journal). Anything else had no news then and nothing has moved since.
    const resolvedKey = useIds ? -broker.topics.version - 1 : broker.topics.version;
    const narrow = session !== null && incremental && session.resolvedKey === resolvedKey && !authorizationEnabled(ctx) ? narrowScope(broker, session, touched, useIds) : null;
    let scope: Iterable<SessionPartition>;
    let denied: Set<string> | null = null;
    /** Every partition of the request (or session), each resolved at the current topics. */
    const everyEntry = (): SessionPartition[] => {
      const entries = session ? [...session.partitions.values()] : requested;
      for (const e of entries) resolve(broker, e, useIds);
      if (session) session.resolvedKey = resolvedKey;
      return entries;
    };
    if (narrow !== null) {
      scope = narrow.partitions;
    } else {
      const entries = everyEntry();
      denied = deniedTopics(ctx, entries);
      scope = entries;
    }
    const maxBytes = req.maxBytes ?? 0x7fffffff;
    const wait = Math.min(req.maxWaitMs, MAX_WAIT_CAP_MS);
    // Whether to wait is decided without reading: `enoughData` is true as soon as any partition has
    // data past its offset (min_bytes <= 1) or is in error (unknown, unauthorized, out of range), the
    // cases in which a read would answer at once. So a caught-up long-poll consumer builds its
    // per-partition responses once, after the wait, not also before it (half the allocations of a
    // many-partition fetch, which showed as GC pauses in the tail).
    const hasPartitions = session ? session.partitions.size > 0 : requested.length > 0;
    if (wait > 0 && req.minBytes > 0 && hasPartitions && !enoughData(scope, denied, req.minBytes)) {
      // a narrow scope takes in the logs that change while it waits; if the journal overflows
      // meanwhile, the fetch answers now and looks at everything
      const ready = narrow !== null ? () => !narrow.absorb() || enoughData(scope, denied, req.minBytes) : () => enoughData(scope, denied, req.minBytes);
      await broker.purgatory.wait(watchedLogs(broker, session, requested), Date.now() + wait, ready);
    }
    if (narrow !== null && !narrow.absorb()) scope = everyEntry();
    const changeMark = broker.logChanges.position;
    const responsePartitions = await readAll(broker, scope, denied, maxBytes, incremental);

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
    if (session) {
      // what the next request must look at again besides the logs that change from now on
      session.seenChange = changeMark;
      session.carry.clear();
      for (const e of scope) if (!noNews(e, denied)) session.carry.add(e);
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
        log: undefined,
        resolveError: ErrorCode.NONE,
        resolvedAt: NaN,
      });
    }
  }
  return out;
}

/**
 * The entry's log (or why there is none), looked up again only when the topics changed since it
 * was last resolved: a session's entries carry the answer from one request to the next.
 */
function resolve(broker: Broker, entry: SessionPartition, useIds: boolean): void {
  const version = broker.topics.version;
  const key = useIds ? -version - 1 : version;
  if (entry.resolvedAt === key) return;
  const state = useIds ? broker.topics.getById(entry.topicId) : broker.topics.get(entry.topic);
  entry.log = state?.logs[entry.partition];
  entry.resolveError =
    entry.log !== undefined ? ErrorCode.NONE : state === undefined && useIds ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  entry.resolvedAt = key;
}

/** Topics of this request the connection may not read (null: none, or no authorizer); one check per topic. */
function deniedTopics(ctx: RequestContext, entries: SessionPartition[]): Set<string> | null {
  if (!authorizationEnabled(ctx)) return null;
  let denied: Set<string> | null = null;
  const checked = new Set<string>();
  for (const e of entries) {
    if (e.topic === "" || checked.has(e.topic)) continue;
    checked.add(e.topic);
    if (!authorizeTopic(ctx, AclOperation.READ, e.topic)) (denied ??= new Set()).add(e.topic);
  }
  return denied;
}

function errorOf(entry: SessionPartition, denied: Set<string> | null): number {
  return denied !== null && denied.has(entry.topic) ? AuthzError.TOPIC_AUTHORIZATION_FAILED : entry.resolveError;
}

/**
 * What a waiting fetch watches: for a session, its logs as one set kept on the session (rebuilt when
 * its partitions or the topics change); otherwise this request's logs.
 */
function watchedLogs(broker: Broker, session: FetchSession | null, requested: SessionPartition[]): readonly PartitionLog[] | ReadonlySet<PartitionLog> {
  if (session === null) return requested.map((e) => e.log).filter((l): l is PartitionLog => l !== undefined);
  refreshSessionLogs(broker, session);
  return session.watched!;
}

/** Rebuilds the session's watched logs and each one's entry when its partitions or the topics changed. */
function refreshSessionLogs(broker: Broker, session: FetchSession): void {
  if (session.watched === null || session.entryByLog === null || session.watchedAt !== broker.topics.version) {
    session.watched = new Set();
    session.entryByLog = new Map();
    for (const e of session.partitions.values()) {
      if (e.log === undefined) continue;
      session.watched.add(e.log);
      session.entryByLog.set(e.log, e);
    }
    session.watchedAt = broker.topics.version;
  }
}

/**
 * The partitions of an incremental session request that can have news (see the handler), and
 * `absorb()` to add those whose logs changed since; null when the journal no longer holds every
 * change since the session's last response. absorb() returns false once it no longer does.
 */
function narrowScope(broker: Broker, session: FetchSession, touched: SessionPartition[], useIds: boolean): { partitions: Set<SessionPartition>; absorb: () => boolean } | null {
  for (const e of touched) resolve(broker, e, useIds);
  refreshSessionLogs(broker, session);
  const entryByLog = session.entryByLog!;
  const partitions = new Set<SessionPartition>(session.carry);
  for (const e of touched) partitions.add(e);
  const take = (log: PartitionLog) => {
    const e = entryByLog.get(log);
    if (e !== undefined) partitions.add(e);
  };
  let from = session.seenChange;
  const absorb = (): boolean => {
    if (from === Infinity) return false;
    const ok = broker.logChanges.since(from, take);
    from = ok ? broker.logChanges.position : Infinity;
    return ok;
  };
  return absorb() ? { partitions, absorb } : null;
}

function enoughData(entries: Iterable<SessionPartition>, denied: Set<string> | null, minBytes: number): boolean {
  let bytes = 0;
  for (const e of entries) {
    const log = e.log;
    if (log === undefined || errorOf(e, denied) !== ErrorCode.NONE) return true; // answer now with the error
    if (e.fetchOffset < log.logStartOffset || e.fetchOffset > log.logEndOffset) return true;
    if (log.highWatermark <= e.fetchOffset) continue;
    if (minBytes <= 1) return true;
    const read = log.read(e.fetchOffset, e.maxBytes);
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

/**
 * Nothing an incremental response would carry for this partition: no records, no error, nothing
 * moved — the `included` filter's rule, decided from the log before anything is read or built.
 */
function noNews(entry: SessionPartition, denied: Set<string> | null): boolean {
  const log = entry.log;
  return (
    log !== undefined &&
    errorOf(entry, denied) === ErrorCode.NONE &&
    entry.fetchOffset >= log.highWatermark &&
    entry.fetchOffset >= log.logStartOffset &&
    entry.fetchOffset <= log.logEndOffset &&
    log.highWatermark === entry.lastHighWatermark &&
    log.logStartOffset === entry.lastLogStartOffset
  );
}

/**
 * Reads every entry within the byte budgets. `incremental`: partitions with no news at all (no
 * data, no error, high watermark and log start offset as last answered) are left out here, before
 * any response object is built — in a session of a thousand partitions most requests have news on
 * a handful.
 */
async function readAll(broker: Broker, entries: Iterable<SessionPartition>, denied: Set<string> | null, maxBytes: number, incremental: boolean): Promise<ReadResult[]> {
  let budget = maxBytes;
  let first = true;
  const remoteDeadline = Date.now() + (broker.tier?.config.remoteFetchMaxWaitMs ?? 0);
  const out: ReadResult[] = [];
  // Synchronous unless a partition needs the remote tier: no promise and microtask per partition
  // (a 100-partition fetch awaited 100 times).
  for (const entry of entries) {
    if (incremental && noNews(entry, denied)) continue;
    const r = readOne(entry);
    out.push(r instanceof Promise ? await r : r);
  }
  return out;

  function readOne(entry: SessionPartition): ReadResult | Promise<ReadResult> {
    const base: PartitionResponse = {
      partitionIndex: entry.partition,
      errorCode: errorOf(entry, denied),
      highWatermark: -1,
      lastStableOffset: -1,
      logStartOffset: -1,
      abortedTransactions: null,
      preferredReadReplica: -1,
      records: EMPTY,
    };
    const log = entry.log;
    if (log === undefined || base.errorCode !== ErrorCode.NONE) return { entry, response: base };
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
