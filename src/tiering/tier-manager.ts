/**
 * The broker's tiering service: one PartitionTier per partition log, one background loop that
 * uploads sealed segments, applies remote and local retention and deletes remote objects, and the
 * entry point of remote reads (through the shared chunk cache).
 *
 * The loop runs a pass every `remote.log.manager.task.interval.ms`, at once again while work is
 * left. A pass works on up to `bunka.tier.upload.concurrency` partitions at once (each partition's
 * steps stay in order), so one slow or large partition does not hold up the others. Any object-store failure ends the pass and the next one waits with exponential backoff
 * (250 ms doubling to 10 s): producers never wait for the store, and local segments stay until
 * uploaded whatever local retention says. The tiering lag (sealed segments not yet uploaded) is
 * available from `lag()` and logged every 10 s while not zero, with the last store error.
 *
 * At the first pass it sweeps the store: objects under this broker's prefix that no manifest
 * names (uploads interrupted by a crash, deletes that failed, partitions of deleted topics) are
 * removed. Uploads wait until the sweep has succeeded, so it never races them.
 */
import type { PartitionLog } from "../log/partition-log.ts";
import { ChunkCache } from "./chunk-cache.ts";
import { partitionPrefix, rootPrefix } from "./keys.ts";
import type { ObjectStore } from "./object-store.ts";
import { PartitionTier, type TierLag, type TopicTierSettings } from "./partition-tier.ts";
import { DEFAULT_UPLOAD_CONCURRENCY, type TierConfig } from "./tier-config.ts";
import { timerDelay } from "../util/long-timeout.ts";

/** Segments of one partition uploaded in parallel and committed with one manifest write. */
const UPLOADS_PER_PARTITION_PER_PASS = 4;
const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 10_000;
const LOG_EVERY_MS = 10_000;
/** An object of ours under the root: `<topic>-<id>/<partition>/<file>`. */
const OUR_KEY = /^[^/]+\/\d+\/(\d{20}\.(log|index|timeindex|snapshot)|manifest)$/;

export interface TierStats {
  lag: TierLag;
  uploads: number;
  uploadedBytes: number;
  remoteReads: number;
  remoteDeletes: number;
  storeFailures: number;
  lastError: string | null;
  chunkCache: ReturnType<ChunkCache["stats"]>;
}

export class TierManager {
  readonly chunkCache: ChunkCache;
  private readonly tiers = new Map<PartitionLog, PartitionTier>();
  private readonly doomedPrefixes = new Set<string>();
  private readonly root: string;
  private swept = false;
  private running = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private current: Promise<void> | null = null;
  private backoffMs = 0;
  private failingSinceMs = 0;
  private lastError: string | null = null;
  private lastErrorLogMs = 0;
  private lastLagLogMs = 0;
  private lastLagSegments = 0;
  private uploads = 0;
  private uploadedBytes = 0;
  private remoteReads = 0;
  private remoteDeletes = 0;
  private storeFailures = 0;

  constructor(
    readonly config: TierConfig,
    readonly store: ObjectStore,
    clusterId: string,
    private readonly log: (msg: string) => void,
  ) {
    this.root = config.prefix ?? clusterId;
    this.chunkCache = new ChunkCache(config.chunkCacheBytes, config.chunkBytes, (key, start, length) => store.getRange(key, start, length));
  }

  private get concurrency(): number {
    return this.config.uploadConcurrency ?? DEFAULT_UPLOAD_CONCURRENCY;
  }

  /** Attaches the remote tier to a partition log (reads its local manifest). */
  attach(log: PartitionLog, topicId: string, settings: () => TopicTierSettings): PartitionTier {
    const tier = new PartitionTier(log, topicId, partitionPrefix(this.root, log.topic, topicId, log.partition), this.store, this.chunkCache, settings);
    this.tiers.set(log, tier);
    log.attachRemote(tier);
    return tier;
  }

  /** The partition is being deleted (its topic was): its remote objects go too, in the background. */
  detach(log: PartitionLog): void {
    const tier = this.tiers.get(log);
    if (tier === undefined) return;
    tier.detached = true;
    this.tiers.delete(log);
    this.doomedPrefixes.add(tier.prefix);
    this.kick();
  }

  tierOf(log: PartitionLog): PartitionTier | undefined {
    return this.tiers.get(log);
  }

  /** Reads batches at a tiered offset (the log answered `remote`). Throws on store errors. */
  async read(log: PartitionLog, offset: number, maxBytes: number, upTo: number): Promise<Uint8Array> {
    const tier = this.tiers.get(log);
    if (tier === undefined) return new Uint8Array(0);
    this.remoteReads++;
    return tier.read(offset, maxBytes, upTo);
  }

  lag(): TierLag {
    const total: TierLag = { segments: 0, bytes: 0 };
    for (const tier of this.tiers.values()) {
      const l = tier.lag();
      total.segments += l.segments;
      total.bytes += l.bytes;
    }
    return total;
  }

  stats(): TierStats {
    return {
      lag: this.lag(),
      uploads: this.uploads,
      uploadedBytes: this.uploadedBytes,
      remoteReads: this.remoteReads,
      remoteDeletes: this.remoteDeletes,
      storeFailures: this.storeFailures,
      lastError: this.lastError,
      chunkCache: this.chunkCache.stats(),
    };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.log(`tiering: object store ${this.store.description}, prefix "${this.root}"`);
    this.schedule(0);
  }

  /** Stops the loop; waits (at most `waitMs`) for the pass in progress. */
  async stop(waitMs = 5000): Promise<void> {
    this.running = false;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.current !== null) await Promise.race([this.current, Bun.sleep(waitMs)]);
    const st = this.stats();
    const c = st.chunkCache;
    this.log(
      `tiering stats: ${st.uploads} segment upload(s) (${st.uploadedBytes} bytes), ${st.remoteReads} remote read(s), ` +
        `chunk cache ${c.hits} hit(s) / ${c.misses} miss(es) / ${c.prefetches} read-ahead(s), ${st.remoteDeletes} remote delete(s), ` +
        `${st.storeFailures} store failure(s), lag ${st.lag.segments} segment(s)`,
    );
  }

  /** Runs a pass now unless one is running or the store is backing off. */
  kick(): void {
    if (this.running && this.current === null && this.backoffMs === 0) this.schedule(0);
  }

  /**
   * One pass over every partition; true when work is left (another pass should follow at once).
   * Public for tests, which drive it without the timer.
   */
  async runOnce(now = Date.now()): Promise<boolean> {
    if (!this.swept) await this.store.init();
    // Before the sweep (it lists the whole prefix): producers whose state is only remote.
    await runBounded([...this.tiers.values()], this.concurrency, (tier) => tier.restoreProducerState(this.log));
    if (!this.swept) {
      await this.sweep();
      this.swept = true;
    }
    for (const prefix of [...this.doomedPrefixes]) {
      for (const o of await this.store.list(prefix)) {
        this.chunkCache.dropObject(o.key);
        await this.store.delete(o.key);
        this.remoteDeletes++;
      }
      this.doomedPrefixes.delete(prefix);
    }
    const tiers = [...this.tiers.values()].filter((t) => !t.detached && t.active);
    let more = false;
    await runBounded(tiers, this.concurrency, async (tier) => {
      if (await this.passOne(tier, now)) more = true;
    });
    return more;
  }

  /** One partition's share of a pass; true when uploads are left. Its steps run one at a time. */
  private async passOne(tier: PartitionTier, now: number): Promise<boolean> {
    if (tier.detached) return false;
    await tier.syncManifestCopy();
    await tier.retryDeletes();
    const before = tier.segments;
    await tier.enforceRetention(now, this.log);
    for (const seg of before.slice(0, before.length - tier.segments.length)) this.remoteDeletes += seg.producerSnapshot === true ? 4 : 3;
    try {
      for (const seg of await tier.uploadPending(Date.now(), UPLOADS_PER_PARTITION_PER_PASS)) {
        this.uploads++;
        this.uploadedBytes += seg.size;
      }
    } finally {
      // Local deletion of what is now safely remote (and past local retention), even after a failure.
      if (!tier.detached) await tier.log.applyRetention(Date.now());
    }
    return tier.pendingUploads().length > 0;
  }

  /** Deletes objects under our prefix that no manifest names (see the file comment). */
  private async sweep(): Promise<void> {
    const root = rootPrefix(this.root);
    const byPrefix = new Map<string, PartitionTier>();
    for (const tier of this.tiers.values()) byPrefix.set(tier.prefix, tier);
    const referenced = new Map<PartitionTier, Set<string>>();
    const removed: string[] = [];
    for (const o of await this.store.list(root)) {
      const rel = o.key.slice(root.length);
      if (!OUR_KEY.test(rel)) continue;
      const prefix = o.key.slice(0, o.key.lastIndexOf("/") + 1);
      const tier = byPrefix.get(prefix);
      if (tier !== undefined) {
        let keys = referenced.get(tier);
        if (keys === undefined) {
          keys = tier.referencedKeys();
          referenced.set(tier, keys);
        }
        if (keys.has(o.key)) continue;
      }
      await this.store.delete(o.key);
      removed.push(rel);
    }
    if (removed.length > 0) {
      const shown = removed.slice(0, 5).join(", ") + (removed.length > 5 ? ", ..." : "");
      this.log(`tiering: removed ${removed.length} orphan object(s) from the store: ${shown}`);
    }
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.current = this.tick().finally(() => {
        this.current = null;
      });
    }, timerDelay(delayMs));
  }

  private async tick(): Promise<void> {
    let more = false;
    try {
      more = await this.runOnce();
      if (this.backoffMs > 0) this.log(`tiering: object store reachable again after ${Date.now() - this.failingSinceMs} ms`);
      this.backoffMs = 0;
    } catch (e) {
      this.storeFailures++;
      this.lastError = e instanceof Error ? e.message : String(e);
      const now = Date.now();
      if (this.backoffMs === 0) this.failingSinceMs = now;
      this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs === 0 ? FIRST_BACKOFF_MS : this.backoffMs * 2);
      if (now - this.lastErrorLogMs >= LOG_EVERY_MS) {
        this.lastErrorLogMs = now;
        this.log(`tiering: object store error, retrying in ${this.backoffMs} ms: ${this.lastError}`);
      }
    }
    this.reportLag();
    this.schedule(this.backoffMs > 0 ? this.backoffMs : more ? 0 : this.config.taskIntervalMs);
  }

  private reportLag(): void {
    const lag = this.lag();
    const now = Date.now();
    if (lag.segments > 0 && now - this.lastLagLogMs >= LOG_EVERY_MS) {
      this.lastLagLogMs = now;
      const why = this.backoffMs > 0 && this.lastError !== null ? ` (store failing: ${this.lastError})` : "";
      this.log(`tiering lag: ${lag.segments} segment(s), ${lag.bytes} bytes waiting for upload${why}`);
    } else if (lag.segments === 0 && this.lastLagSegments > 0) {
      this.log("tiering lag: 0 (caught up)");
    }
    this.lastLagSegments = lag.segments;
  }
}

/**
 * Runs `work` over `items`, at most `limit` at a time. After the first failure no new item starts;
 * the ones running finish, then that failure is thrown (the pass ends as a whole, as before).
 */
export async function runBounded<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (failure === null && next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure !== null) throw (failure as { error: unknown }).error;
}
