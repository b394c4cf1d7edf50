/**
 * What the partition log knows of its remote tier (implemented by tiering/partition-tier.ts; the
 * log never imports the tiering layer). With a view attached, the log's start offset covers the
 * whole log (remote + local, as Kafka's UnifiedLog), reads below the first local segment are
 * answered with a "remote" marker for the caller to read asynchronously, and retention deletes a
 * local segment only once it lies below the remote end offset (safely uploaded).
 */
export interface RemoteLogView {
  /** First offset held remotely, or null when nothing is. */
  readonly remoteStartOffset: number | null;
  /** One past the last offset held remotely (0 when nothing is). */
  readonly remoteEndOffset: number;
  /**
   * Local retention (local.retention.ms / .bytes with -2 resolved to retention.*) when the topic
   * tiers new segments (remote.storage.enable); null when it does not.
   */
  localRetention(): { ms: number; bytes: number } | null;
  /** The remote segment holding the first record with timestamp >= ts (its base offset, an approximation). */
  findByTimestamp(ts: number): { offset: number; timestamp: number } | null;
  /** The largest timestamp held remotely. */
  maxTimestamp(): { offset: number; timestamp: number } | null;
}
