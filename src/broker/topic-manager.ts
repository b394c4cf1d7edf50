/**
 * Topics and their partition logs: creation (explicit and automatic), deletion, partition growth,
 * config changes. The metadata store is written before a new topic's logs are opened and before a
 * deleted topic's directories are removed, so a crash in between leaves only orphan directories,
 * which `open` removes.
 */
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { BrokerConfig } from "../config/broker-config.ts";
import { LONG_MAX, type ConfigValue } from "../config/config-def.ts";
import { effectiveTopicConfig, typedTopicConfig, validateTopicConfig, type EffectiveConfigEntry } from "../config/topic-config.ts";
import { fdSegmentFileFactory } from "../log/segment-file.ts";
import type { SegmentFileFactory } from "../log/segment-file.ts";
import { mappedSegmentFileFactory } from "../log/mapped-segment-file.ts";
import { isDurableMode } from "../log/log-config.ts";
import { PartitionLog, type LogConfig } from "../log/partition-log.ts";
import { LOG_IO_SETTINGS, segmentIoFor, type LogIoSetting, type SegmentIo } from "../log/native-segment-file.ts";
import type { TopicCompressionType } from "../log/log-config.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { MetadataStore, newTopicId, type TopicRecord } from "./metadata-store.ts";
import { topicNameError } from "./topic-names.ts";
import { boundedAll } from "../util/bounded-all.ts";
import { hasCleanShutdownMarker, removeCleanShutdownMarker, writeCleanShutdownMarker } from "../log/clean-shutdown.ts";

export interface TopicState {
  record: TopicRecord;
  logs: PartitionLog[];
}

export interface TopicError {
  errorCode: number;
  errorMessage: string;
}

export const MAX_PARTITIONS_PER_TOPIC = 100_000;
/** Partition logs opened (recovered) at once at startup. */
const OPEN_CONCURRENCY = 16;

/** One startup line: what recovering the stored logs cost. */
function describeRecovery(logs: readonly PartitionLog[], ms: number, cleanShutdown: boolean): string {
  let resumed = 0;
  let bytes = 0;
  let crcBytes = 0;
  let batches = 0;
  let truncated = 0;
  let synced = 0;
  for (const log of logs) {
    const s = log.recoveryStats;
    if (s === null) continue;
    resumed += s.resumedSegments;
    bytes += s.bytes;
    crcBytes += s.crcBytes;
    batches += s.batches;
    truncated += s.truncatedBytes;
    synced += s.syncedSegments;
  }
  const mib = (n: number) => (n / 1048576).toFixed(1);
  return (
    `opened ${logs.length} partition log(s) in ${ms.toFixed(0)} ms` +
    (cleanShutdown
      ? ` after a clean shutdown: ${resumed} segment(s) resumed from their indexes;`
      : ` without a clean-shutdown marker: ${resumed} segment(s) below the recovery points resumed from their indexes;`) +
    ` walked ${batches} batches (${mib(bytes)} MiB, ` +
    `${mib(crcBytes)} MiB CRC-checked), cut ${truncated} byte(s) of torn or preallocated tails, ${synced} segment(s) fsynced`
  );
}

export class TopicManager {
  private readonly topics = new Map<string, TopicState>();
  /**
   * Bumped whenever a topic appears or goes or gains a partition: a name, id or partition number
   * resolved to a log under one version still resolves the same while the version is unchanged
   * (fetch sessions cache their partitions' logs on it).
   */
  version = 0;
  private readonly creating = new Map<string, Promise<TopicState | TopicError>>();
  /** Called with every opened log so the broker can hook high-watermark wakeups. */
  onLogOpened: (log: PartitionLog) => void = () => {};
  /** Called with every log of a deleted topic before its files go (the tiering layer drops its objects). */
  onLogDeleted: (log: PartitionLog) => void = () => {};
  private io: SegmentIo | null = null;
  private flushIntervalFiles: SegmentFileFactory | null = null;

  constructor(
    readonly store: MetadataStore,
    private readonly config: BrokerConfig,
    private readonly log: (msg: string) => void,
  ) {}

  /** Opens every stored topic's logs (running recovery) and removes directories of unknown topics. */
  async open(): Promise<void> {
    this.segmentIo();
    const t0 = performance.now();
    const records = [...this.store.topics.values()];
    const wanted = records.flatMap((record) => Array.from({ length: record.partitions }, (_, p) => ({ record, p })));
    // Several partitions at once: one's recovery fsyncs (durable logs) wait while the next is read
    // and walked, and the engine groups concurrent syncs into one syncfs.
    const cleanShutdown = hasCleanShutdownMarker(this.config.dataDir);
    const opened = await boundedAll(wanted, OPEN_CONCURRENCY, ({ record, p }) => this.openLog(record, p, cleanShutdown));
    // Before anything is appended: a crash from here on must not look like a clean shutdown.
    removeCleanShutdownMarker(this.config.dataDir);
    let at = 0;
    for (const record of records) {
      this.topics.set(record.name, { record, logs: opened.slice(at, at + record.partitions) });
      at += record.partitions;
      this.version++;
    }
    if (opened.length > 0) this.log(describeRecovery(opened, performance.now() - t0, cleanShutdown));
    for (const entry of readdirSync(this.config.dataDir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const m = /^(.+)-(\d+)$/.exec(entry.name);
      if (!m) continue;
      const t = this.store.topics.get(m[1]!);
      if (t && Number(m[2]) < t.partitions) continue;
      this.log(`removing orphan partition directory ${entry.name}`);
      rmSync(join(this.config.dataDir, entry.name), { recursive: true, force: true });
    }
  }

  get(name: string): TopicState | undefined {
    return this.topics.get(name);
  }

  getById(id: string): TopicState | undefined {
    const record = this.store.topicsById.get(id);
    return record ? this.topics.get(record.name) : undefined;
  }

  partition(topic: string, partition: number): PartitionLog | undefined {
    return this.topics.get(topic)?.logs[partition];
  }

  all(): IterableIterator<TopicState> {
    return this.topics.values();
  }

  effectiveConfig(record: TopicRecord): EffectiveConfigEntry[] {
    return effectiveTopicConfig(record.configs, this.config.raw);
  }

  logConfig(record: TopicRecord): LogConfig {
    return toLogConfig(typedTopicConfig(this.effectiveConfig(record)), this.config);
  }

  /** Validates a create request without doing it (also used for validate_only). */
  validateCreate(name: string, partitions: number, replicationFactor: number, configs: Record<string, string | null>): TopicError | null {
    const nameError = topicNameError(name);
    if (nameError) return { errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: nameError };
    if (this.topics.has(name) || this.creating.has(name)) {
      return { errorCode: ErrorCode.TOPIC_ALREADY_EXISTS, errorMessage: `Topic '${name}' already exists.` };
    }
    if (partitions !== -1 && (partitions < 1 || partitions > MAX_PARTITIONS_PER_TOPIC)) {
      return { errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: `Number of partitions must be at least 1 and at most ${MAX_PARTITIONS_PER_TOPIC}.` };
    }
    if (replicationFactor !== -1 && replicationFactor !== 1) {
      return {
        errorCode: ErrorCode.INVALID_REPLICATION_FACTOR,
        errorMessage: `Unable to replicate the partition ${replicationFactor} time(s): The target replication factor of ${replicationFactor} cannot be reached because only 1 broker(s) are registered.`,
      };
    }
    for (const [key, value] of Object.entries(configs)) {
      const err = validateTopicConfig(key, value);
      if (err) return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: err };
    }
    return null;
  }

  async create(name: string, partitions: number, configs: Record<string, string | null>): Promise<TopicState | TopicError> {
    const pending = this.creating.get(name);
    if (pending) return pending;
    const work = this.doCreate(name, partitions === -1 ? this.config.numPartitions : partitions, configs);
    this.creating.set(name, work);
    try {
      return await work;
    } finally {
      this.creating.delete(name);
    }
  }

  /** Auto-creation as Kafka does it on Metadata requests (`auto.create.topics.enable`, `num.partitions`). */
  async autoCreate(name: string): Promise<TopicState | TopicError> {
    const existing = this.topics.get(name);
    if (existing) return existing;
    const pending = this.creating.get(name);
    if (pending) return pending;
    const err = topicNameError(name);
    if (err) return { errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: err };
    return this.create(name, -1, {});
  }

  private async doCreate(name: string, partitions: number, configs: Record<string, string | null>): Promise<TopicState | TopicError> {
    const overrides: Record<string, string> = {};
    for (const [k, v] of Object.entries(configs)) if (v !== null) overrides[k] = v;
    let id = newTopicId();
    while (this.store.topicsById.has(id)) id = newTopicId();
    const record: TopicRecord = { name, id, partitions, configs: overrides, createdAtMs: Date.now() };
    this.store.put(record);
    try {
      await this.store.save();
    } catch (e) {
      this.store.remove(name);
      return { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, errorMessage: `could not persist topic metadata: ${(e as Error).message}` };
    }
    const logs: PartitionLog[] = [];
    for (let p = 0; p < partitions; p++) logs.push(await this.openLog(record, p));
    const state = { record, logs };
    this.topics.set(name, state);
    this.version++;
    this.log(`created topic ${name} with ${partitions} partition(s), id ${id}`);
    return state;
  }

  async delete(name: string): Promise<TopicError | null> {
    const state = this.topics.get(name);
    if (!state) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: "This server does not host this topic-partition." };
    this.topics.delete(name);
    this.version++;
    this.store.remove(name);
    await this.store.save();
    for (const log of state.logs) {
      this.onLogDeleted(log);
      await log.delete();
    }
    this.log(`deleted topic ${name}`);
    return null;
  }

  async addPartitions(name: string, newTotal: number): Promise<TopicError | null> {
    const state = this.topics.get(name);
    if (!state) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: "This server does not host this topic-partition." };
    const current = state.record.partitions;
    if (newTotal < current) {
      return { errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: `Topic currently has ${current} partitions, which is higher than the requested ${newTotal}.` };
    }
    if (newTotal === current) {
      return { errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: `Topic already has ${current} partitions.` };
    }
    if (newTotal > MAX_PARTITIONS_PER_TOPIC) {
      return { errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: `Number of partitions must be at most ${MAX_PARTITIONS_PER_TOPIC}.` };
    }
    state.record.partitions = newTotal;
    await this.store.save();
    for (let p = current; p < newTotal; p++) {
      state.logs.push(await this.openLog(state.record, p));
      this.version++;
    }
    return null;
  }

  /** Replaces (full=true, AlterConfigs) or patches (IncrementalAlterConfigs) a topic's overrides. */
  async setConfigs(name: string, overrides: Record<string, string>): Promise<void> {
    const state = this.topics.get(name);
    if (!state) return;
    state.record.configs = overrides;
    await this.store.save();
    const logConfig = this.logConfig(state.record);
    for (const log of state.logs) log.updateConfig(logConfig);
  }

  /** Closes every log; when all closed cleanly, marks the data directory (see clean-shutdown.ts). */
  async closeAll(): Promise<void> {
    let clean = true;
    for (const state of this.topics.values()) {
      for (const log of state.logs) {
        await log.close();
        clean &&= log.closedCleanly;
      }
    }
    if (!clean) {
      this.log("not every partition log closed cleanly: the next start walks the segments past the recovery points");
      return;
    }
    try {
      writeCleanShutdownMarker(this.config.dataDir);
    } catch (err) {
      this.log(`clean-shutdown marker not written (${(err as Error).message}): the next start walks the segments past the recovery points`);
    }
  }

  /** Segment file backend from bunka.log.io (default auto), chosen once and logged. */
  private segmentIo(): SegmentIo {
    if (this.io === null) {
      const raw = this.config.raw.get("bunka.log.io") ?? "auto";
      const setting = LOG_IO_SETTINGS.find((s) => s === raw) ?? "auto";
      this.io = segmentIoFor(setting as LogIoSetting);
      const syncfsMinFiles = Number(this.config.raw.get("bunka.log.syncfs.min.files") ?? 2);
      this.io.engine?.raw.setSyncfsMinFiles(syncfsMinFiles);
      this.log(this.io.description + (this.io.engine ? `; syncfs group commit from ${syncfsMinFiles} files${syncfsMinFiles === 0 ? " (off)" : ""}` : ""));
    }
    return this.io;
  }

  /** Flush-interval logs' files (bunka.log.mmap, default true), chosen once and logged. */
  private flushIntervalFileFactory(): SegmentFileFactory {
    if (this.flushIntervalFiles === null) {
      const wanted = (this.config.raw.get("bunka.log.mmap") ?? "true").toLowerCase() !== "false";
      const warmAhead = (this.config.raw.get("bunka.log.warm.ahead") ?? "true").toLowerCase() !== "false";
      const mapped = wanted ? mappedSegmentFileFactory(warmAhead) : null;
      this.flushIntervalFiles = mapped ?? fdSegmentFileFactory;
      this.log(
        mapped !== null
          ? `flush-interval logs: appends through a shared mapping of the active segment (bunka.log.mmap=true), page cache warmed ahead: ${warmAhead}`
          : `flush-interval logs: pwrite on the JS thread (${wanted ? "mapping calls unavailable" : "bunka.log.mmap=false"})`,
      );
    }
    return this.flushIntervalFiles;
  }

  private async openLog(record: TopicRecord, partition: number, cleanShutdown = false): Promise<PartitionLog> {
    const dir = join(this.config.dataDir, `${record.name}-${partition}`);
    const logConfig = this.logConfig(record);
    // Flush-interval logs write on the JS thread so an acknowledged write is in the kernel before the
    // ack (as Kafka's page-cache writes are): measured cheaper than the native engine with write
    // barriers at 100 partitions (bench/RESULTS.md). Durable logs use the configured engine. A log
    // switched to flush-interval later keeps its engine; its acks then wait for a write barrier.
    const files = isDurableMode(logConfig) ? this.segmentIo().files : this.flushIntervalFileFactory();
    const log = await PartitionLog.open(dir, record.name, partition, logConfig, { files, cleanShutdown });
    this.onLogOpened(log);
    return log;
  }
}

function num(v: ConfigValue | undefined, fallback: number): number {
  return typeof v === "number" ? v : fallback;
}

/** Kafka's Long.MAX_VALUE default for flush.messages / flush.ms means "never force a flush": Bunka's durable mode. */
function flushSetting(v: ConfigValue | undefined): number | null {
  return typeof v === "number" && v < LONG_MAX ? v : null;
}

const COMPRESSION_TYPES: readonly TopicCompressionType[] = ["producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"];

function compressionType(v: ConfigValue | undefined): TopicCompressionType {
  return COMPRESSION_TYPES.find((t) => t === v) ?? "producer";
}

/** Topic configs (plus the broker settings the log obeys) → the log's settings. */
export function toLogConfig(c: Map<string, ConfigValue>, broker?: Pick<BrokerConfig, "messageDeepValidation">): LogConfig {
  return {
    segmentBytes: num(c.get("segment.bytes"), 1073741824),
    segmentMs: num(c.get("segment.ms"), 604800000),
    segmentJitterMs: num(c.get("segment.jitter.ms"), 0),
    retentionMs: num(c.get("retention.ms"), 604800000),
    retentionBytes: num(c.get("retention.bytes"), -1),
    indexIntervalBytes: num(c.get("index.interval.bytes"), 4096),
    maxMessageBytes: num(c.get("max.message.bytes"), 1048588),
    messageTimestampType: c.get("message.timestamp.type") === "LogAppendTime" ? "LogAppendTime" : "CreateTime",
    flushIntervalMessages: flushSetting(c.get("flush.messages")),
    flushIntervalMs: flushSetting(c.get("flush.ms")),
    fileDeleteDelayMs: num(c.get("file.delete.delay.ms"), 60000),
    compressionType: compressionType(c.get("compression.type")),
    deepValidation: broker?.messageDeepValidation ?? false,
  };
}
