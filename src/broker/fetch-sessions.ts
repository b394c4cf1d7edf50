/**
 * Incremental fetch sessions (KIP-227). A consumer that fetches the same partitions over and over
 * sends the full list once; afterwards each request names only what changed and each response
 * carries only partitions with news (records, a moved high watermark or log start offset, an error).
 *
 * Epoch rules, as Kafka: sessionId 0 + epoch -1 = sessionless full fetch; sessionId 0 + epoch 0 =
 * full fetch that opens a session; id + epoch -1 = close the session (and fetch sessionless);
 * id + epoch 0 = close and open anew; id + epoch N>0 = incremental, N must be the expected epoch.
 */
import type { PartitionLog } from "../log/partition-log.ts";

export interface SessionPartition {
  topic: string;
  topicId: string;
  partition: number;
  fetchOffset: number;
  maxBytes: number;
  /** What the last response told the client, to decide whether this partition has news. */
  lastHighWatermark: number;
  lastLogStartOffset: number;
  /**
   * What the fetch handler resolved this partition to (the log, or the error for an unknown topic
   * or partition), valid while TopicManager.version equals `resolvedAt` (negated and minus one when
   * resolved by topic id), so that a session's thousand partitions are not looked up again in every
   * request.
   */
  log: PartitionLog | undefined;
  resolveError: number;
  resolvedAt: number;
}

export interface FetchSession {
  id: number;
  /** The epoch the next incremental request must carry. */
  nextEpoch: number;
  /** Keyed by `${topicId or topic}:${partition}`, in insertion order (response order). */
  partitions: Map<string, SessionPartition>;
  lastUsedMs: number;
  /**
   * The logs of the session's partitions, as the set a waiting Fetch watches in the purgatory;
   * built when first needed and dropped when the partitions change (or, by `watchedAt`, when the
   * topics did), instead of registering a thousand logs on every long poll.
   */
  watched: Set<PartitionLog> | null;
  watchedAt: number;
  /** Each watched log's partition entry, built with `watched`. */
  entryByLog: Map<PartitionLog, SessionPartition> | null;
  /**
   * What the last response left to look at again (log-change-journal.ts): the broker's log-change
   * journal position when it was read, and the partitions that still had news then (unread data
   * past the byte budget, an error). -1: look at every partition next time.
   */
  seenChange: number;
  carry: Set<SessionPartition>;
  /** The TopicManager version (negated minus one when by topic id) every entry was resolved at. */
  resolvedKey: number;
}

export const MAX_FETCH_SESSIONS = 1000;

export class FetchSessionCache {
  private readonly sessions = new Map<number, FetchSession>();
  private nextId = 1 + Math.floor(Math.random() * 1_000_000);

  get size(): number {
    return this.sessions.size;
  }

  create(now: number): FetchSession {
    if (this.sessions.size >= MAX_FETCH_SESSIONS) this.evictOldest();
    let id = this.nextId++;
    if (this.nextId > 0x7fffffff) this.nextId = 1;
    while (this.sessions.has(id) || id === 0) id = this.nextId++;
    const session: FetchSession = {
      id,
      nextEpoch: 1,
      partitions: new Map(),
      lastUsedMs: now,
      watched: null,
      watchedAt: -1,
      entryByLog: null,
      seenChange: -1,
      carry: new Set(),
      resolvedKey: Number.NaN,
    };
    this.sessions.set(id, session);
    return session;
  }

  get(id: number): FetchSession | undefined {
    return this.sessions.get(id);
  }

  remove(id: number): void {
    this.sessions.delete(id);
  }

  private evictOldest(): void {
    let oldest: FetchSession | undefined;
    for (const s of this.sessions.values()) if (!oldest || s.lastUsedMs < oldest.lastUsedMs) oldest = s;
    if (oldest) this.sessions.delete(oldest.id);
  }
}

export function sessionKey(topicOrId: string, partition: number): string {
  return `${topicOrId}:${partition}`;
}
