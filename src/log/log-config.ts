/** Per-partition log settings (the Kafka topic configs the storage layer obeys). */
export interface LogConfig {
  /** segment.bytes: roll when the active segment would exceed this. */
  segmentBytes: number;
  /** segment.ms: roll when the active segment's first batch is older than this. */
  segmentMs: number;
  /** segment.jitter.ms: a random part of this is subtracted from segmentMs per segment. */
  segmentJitterMs?: number;
  /** retention.ms, -1 = infinite. */
  retentionMs: number;
  /** retention.bytes, -1 = infinite. */
  retentionBytes: number;
  /** index.interval.bytes: bytes between sparse index entries. */
  indexIntervalBytes: number;
  /** max.message.bytes: the largest batch accepted. */
  maxMessageBytes: number;
  messageTimestampType: "CreateTime" | "LogAppendTime";
  /** flush.messages; null together with flushIntervalMs = durable mode (fsync before ack). */
  flushIntervalMessages: number | null;
  /** flush.ms; see flushIntervalMessages. */
  flushIntervalMs: number | null;
  /** file.delete.delay.ms: deleted segments linger as `*.deleted` this long (default 0). */
  fileDeleteDelayMs?: number;
  /**
   * compression.type: "producer" (default) stores batches as they came; any other value makes
   * appends recompress batches in another codec to this one (see log/recompress.ts).
   */
  compressionType?: TopicCompressionType;
  /** Broker's log.message.deep.validation.enable: decompress and check every batch's records. */
  deepValidation?: boolean;
}

/** The values of Kafka's compression.type topic config. */
export type TopicCompressionType = "producer" | "uncompressed" | "gzip" | "snappy" | "lz4" | "zstd";

/** Kafka's defaults, except durable mode (Kafka relies on replication instead of fsync). */
export const DEFAULT_LOG_CONFIG: LogConfig = {
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * 24 * 3600 * 1000,
  segmentJitterMs: 0,
  retentionMs: 7 * 24 * 3600 * 1000,
  retentionBytes: -1,
  indexIntervalBytes: 4096,
  maxMessageBytes: 1048588,
  messageTimestampType: "CreateTime",
  flushIntervalMessages: null,
  flushIntervalMs: null,
  fileDeleteDelayMs: 60000,
};

/** Durable mode: every acknowledged append is fsynced first (group commit). */
export function isDurableMode(config: LogConfig): boolean {
  return config.flushIntervalMessages === null && config.flushIntervalMs === null;
}
