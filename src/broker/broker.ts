/**
 * The broker: configuration, durable metadata, topics and their logs, long-poll fetch waiters, fetch
 * sessions and producer ids. `dispatch(frame)` is the single entry point for requests, so most tests
 * can drive a Broker without TCP.
 */
import { mkdirSync } from "node:fs";
import type { BrokerConfig } from "../config/broker-config.ts";
import { GroupCoordinator } from "../groups/coordinator.ts";
import { consumerGroupsOf } from "../groups/broker-wiring.ts";
import { typedTopicConfig } from "../config/topic-config.ts";
import { HotCache } from "../log/hot-cache.ts";
import type { PartitionLog } from "../log/partition-log.ts";
import { createObjectStore } from "../tiering/store-factory.ts";
import { tierConfig } from "../tiering/tier-config.ts";
import { TierManager } from "../tiering/tier-manager.ts";
import { topicTierSettings } from "../tiering/topic-settings.ts";
import type { TopicTierSettings } from "../tiering/partition-tier.ts";
import type { ConnectionContext, DispatchResult, FrameDispatcher } from "../net/connection.ts";
import { releaseTenantConnection } from "../tenant/tenant-context.ts";
import { dispatchFrame } from "./dispatch.ts";
import { FetchPurgatory } from "./fetch-purgatory.ts";
import { FetchSessionCache } from "./fetch-sessions.ts";
import { LogChangeJournal } from "./log-change-journal.ts";
import { MetadataStore, type TopicRecord } from "./metadata-store.ts";
import { ProducerIdManager } from "./producer-ids.ts";
import { TopicManager } from "./topic-manager.ts";

export interface AdvertisedEndpoint {
  host: string;
  port: number;
}

export class Broker implements FrameDispatcher {
  readonly purgatory = new FetchPurgatory();
  readonly fetchSessions = new FetchSessionCache();
  /** Logs whose high watermark or start moved, for incremental fetch sessions (log-change-journal.ts). */
  readonly logChanges = new LogChangeJournal();
  readonly producerIds: ProducerIdManager;
  readonly startedAtMs = Date.now();
  /** Filled in once the listener is bound (port 0 resolves to the real port). */
  advertised: AdvertisedEndpoint;
  /** Consumer groups and committed offsets; set by open(). */
  groups!: GroupCoordinator;
  /** Memory tier: the newest batches of every partition (bunka.hot.cache.bytes). */
  hotCache: HotCache = new HotCache(0);
  /** Tiering to the object store; null when remote.log.storage.system.enable=false. */
  tier: TierManager | null = null;
  private retentionTimer: ReturnType<typeof setInterval> | null = null;
  private producerExpiryTimer: ReturnType<typeof setInterval> | null = null;
  private retentionRunning = false;

  private constructor(
    readonly config: BrokerConfig,
    readonly store: MetadataStore,
    readonly topics: TopicManager,
    readonly log: (msg: string) => void,
  ) {
    this.producerIds = new ProducerIdManager(store);
    const first = config.advertisedListeners[0]!;
    this.advertised = { host: first.host, port: first.port };
  }

  static async open(config: BrokerConfig, log: (msg: string) => void): Promise<Broker> {
    mkdirSync(config.dataDir, { recursive: true });
    const store = await MetadataStore.open(config.dataDir);
    const topics = new TopicManager(store, config, log);
    const broker = new Broker(config, store, topics, log);
    const tiering = tierConfig(config);
    broker.hotCache = new HotCache(tiering.hotCacheBytes);
    if (tiering.enabled) broker.tier = new TierManager(tiering, createObjectStore(tiering), store.clusterId, log);
    topics.onLogOpened = (partitionLog) => {
      broker.watchLog(partitionLog);
      broker.attachTiers(partitionLog);
    };
    topics.onLogDeleted = (partitionLog) => {
      broker.logChanges.unregister(partitionLog);
      broker.tier?.detach(partitionLog);
    };
    await topics.open();
    broker.groups = await GroupCoordinator.open(
      {
        dataDir: config.dataDir,
        initialRebalanceDelayMs: config.groupInitialRebalanceDelayMs,
        minSessionTimeoutMs: config.groupMinSessionTimeoutMs,
        maxSessionTimeoutMs: config.groupMaxSessionTimeoutMs,
        maxGroupSize: config.groupMaxSize,
        offsetsRetentionMs: config.offsetsRetentionMinutes * 60_000,
        offsetsRetentionCheckIntervalMs: config.offsetsRetentionCheckIntervalMs,
        offsetMetadataMaxBytes: config.offsetMetadataMaxBytes,
        logSegmentBytes: config.offsetsTopicSegmentBytes,
        maxBatchBytes: config.socketRequestMaxBytes + 1024 * 1024,
      },
      (topic, partition) => partition >= 0 && partition < (topics.get(topic)?.logs.length ?? 0),
      log,
    );
    consumerGroupsOf(broker); // hand the KIP-848 settings and topic view to the coordinator now, not on first use
    return broker;
  }

  get nodeId(): number {
    return this.config.nodeId;
  }

  get clusterId(): string {
    return this.store.clusterId;
  }

  /** Sets the advertised endpoint after binding; a configured port of 0 means "the port we got". */
  setBoundPort(host: string, port: number): void {
    const adv = this.config.advertisedListeners[0]!;
    this.advertised = { host: adv.host === "0.0.0.0" ? host : adv.host, port: adv.port === 0 ? port : adv.port };
  }

  dispatch(frame: Uint8Array, conn: ConnectionContext): DispatchResult | Promise<DispatchResult> {
    return dispatchFrame(this, frame, conn);
  }

  onConnectionClosed(conn: ConnectionContext): void {
    releaseTenantConnection(this, conn);
  }

  private readonly advancedLogs = new Set<PartitionLog>();
  private wakeScheduled = false;

  /**
   * Waiting fetches are woken on the next turn of the event loop, not inside the append or fsync
   * callback: the produce acknowledgements that the same advance resolves go out first (they are on
   * the latency-critical path), and several advances in one turn wake each waiter once.
   */
  private watchLog(partitionLog: PartitionLog): void {
    const journalId = this.logChanges.register(partitionLog);
    partitionLog.onLogStartAdvance = () => this.logChanges.record(journalId);
    partitionLog.onHighWatermarkAdvance = (l) => {
      this.logChanges.record(journalId);
      // No fetch waiting anywhere (a consumer behind the log end never waits): nothing to wake. A
      // fetch that arrives later checks the high watermark itself before it waits.
      if (this.purgatory.size === 0) return;
      this.advancedLogs.add(l);
      if (this.wakeScheduled) return;
      this.wakeScheduled = true;
      setImmediate(() => {
        this.wakeScheduled = false;
        const logs = [...this.advancedLogs];
        this.advancedLogs.clear();
        for (const log of logs) this.purgatory.notify(log);
      });
    };
  }

  /** Memory tier and remote tier of a newly opened log. */
  private attachTiers(partitionLog: PartitionLog): void {
    if (this.hotCache.maxBytes > 0) partitionLog.useHotCache(this.hotCache.partition());
    const record = this.store.topics.get(partitionLog.topic);
    if (this.tier === null || record === undefined) return;
    this.tier.attach(partitionLog, record.id, () => this.tierSettings(record));
  }

  /**
   * A topic's tier settings, recomputed only when its overrides change (AlterConfigs replaces
   * `record.configs`; broker settings are static). The tier pass asks for them once or twice per
   * partition every few seconds, and each computation parses every effective topic config
   * (~13 µs): at 1000 partitions that blocked the event loop twice per pass for ~14 ms.
   */
  private tierSettings(record: TopicRecord): TopicTierSettings {
    const cached = this.tierSettingsCache.get(record);
    if (cached !== undefined && cached.configs === record.configs) return cached.settings;
    const settings = topicTierSettings(typedTopicConfig(this.topics.effectiveConfig(record)));
    this.tierSettingsCache.set(record, { configs: record.configs, settings });
    return settings;
  }

  private readonly tierSettingsCache = new WeakMap<TopicRecord, { configs: TopicRecord["configs"]; settings: TopicTierSettings }>();

  startBackgroundTasks(): void {
    this.tier?.start();
    this.retentionTimer = setInterval(() => void this.runRetention(), this.config.retentionCheckIntervalMs);
    this.producerExpiryTimer = setInterval(() => this.expireProducers(Date.now()), this.config.producerIdExpirationCheckIntervalMs);
    this.groups.startBackgroundTasks();
  }

  async runRetention(): Promise<void> {
    if (this.retentionRunning) return;
    this.retentionRunning = true;
    try {
      const now = Date.now();
      for (const t of this.topics.all()) {
        for (const l of t.logs) {
          try {
            await l.applyRetention(now);
          } catch (e) {
            this.log(`retention of ${l.topic}-${l.partition} failed: ${(e as Error).message}`);
          }
        }
      }
    } finally {
      this.retentionRunning = false;
    }
  }

  /** Forgets producers idle for producer.id.expiration.ms in every partition; the number forgotten. */
  expireProducers(now: number): number {
    let removed = 0;
    for (const t of this.topics.all()) for (const l of t.logs) removed += l.expireProducers(now, this.config.producerIdExpirationMs);
    if (removed > 0) this.log(`producer-id expiry: forgot ${removed} idle producer state(s)`);
    return removed;
  }

  /** Answers waiting fetches, flushes and closes every log. */
  async shutdown(): Promise<void> {
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    if (this.producerExpiryTimer) clearInterval(this.producerExpiryTimer);
    await this.tier?.stop();
    const hot = this.hotCache.stats();
    if (hot.hits + hot.misses > 0 || this.hotCache.allocatedBytes > 0) {
      const freshMiB = (this.hotCache.allocatedBytes / 1048576).toFixed(1);
      this.log(`hot cache: ${hot.hits} hit(s) / ${hot.misses} miss(es) (${(this.hotCache.hitRate() * 100).toFixed(1)} % of reads from memory), ${freshMiB} MiB of slabs allocated fresh`);
    }
    this.purgatory.completeAll();
    await this.groups.shutdown();
    await this.topics.closeAll();
  }
}
