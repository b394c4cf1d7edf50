/** Test helpers for the tiering layer: a partition log tiered to an fs (or wrapped) object store. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "bun:test";
import { PartitionLog } from "../../../src/log/partition-log.ts";
import { FsObjectStore } from "../../../src/tiering/fs-object-store.ts";
import type { ObjectInfo, ObjectStore } from "../../../src/tiering/object-store.ts";
import type { TopicTierSettings } from "../../../src/tiering/partition-tier.ts";
import type { TierConfig } from "../../../src/tiering/tier-config.ts";
import { TierManager } from "../../../src/tiering/tier-manager.ts";
import { buildBatch, sampleRecords } from "../log/batch-builder.ts";
import { config } from "../log/helpers.ts";
import { trackTempDir } from "../../support/temp-dirs.ts";

const roots: string[] = [];
afterEach(() => {
  for (const d of roots.splice(0)) rmSync(d, { recursive: true, force: true });
});

export function tempRoot(): string {
  const d = trackTempDir(mkdtempSync(join(tmpdir(), "bunka-tier-")));
  roots.push(d);
  return d;
}

export function tierConfigFor(root: string, overrides: Partial<TierConfig> = {}): TierConfig {
  return {
    enabled: true,
    store: "fs",
    fsDir: join(root, "__bunka_internal", "tier"),
    s3: null,
    prefix: "cluster",
    taskIntervalMs: 50,
    remoteFetchMaxWaitMs: 500,
    opTimeoutMs: 5000,
    chunkBytes: 4096,
    chunkCacheBytes: 1 << 20,
    hotCacheBytes: 0,
    ...overrides,
  };
}

export function tieredSettings(overrides: Partial<TopicTierSettings> = {}): TopicTierSettings {
  return { remoteStorageEnable: true, retentionMs: -1, retentionBytes: -1, localRetentionMs: -1, localRetentionBytes: 0, ...overrides };
}

/** A store that can be switched to failing, wrapping another. */
export class FlakyStore implements ObjectStore {
  down = false;
  /** Fail the put whose key matches, once. */
  failPutMatching: RegExp | null = null;
  constructor(readonly inner: ObjectStore) {}
  get description(): string {
    return "flaky " + this.inner.description;
  }
  private check(): void {
    if (this.down) throw new Error("store down");
  }
  async init(): Promise<void> {
    this.check();
    await this.inner.init();
  }
  async put(key: string, data: Uint8Array): Promise<void> {
    this.check();
    if (this.failPutMatching?.test(key)) {
      this.failPutMatching = null;
      throw new Error(`injected put failure for ${key}`);
    }
    await this.inner.put(key, data);
  }
  async putFile(key: string, path: string): Promise<void> {
    this.check();
    if (this.failPutMatching?.test(key)) {
      this.failPutMatching = null;
      throw new Error(`injected put failure for ${key}`);
    }
    await this.inner.putFile(key, path);
  }
  async getRange(key: string, start: number, length: number): Promise<Uint8Array> {
    this.check();
    return this.inner.getRange(key, start, length);
  }
  async get(key: string): Promise<Uint8Array | null> {
    this.check();
    return this.inner.get(key);
  }
  async delete(key: string): Promise<void> {
    this.check();
    await this.inner.delete(key);
  }
  async list(prefix: string): Promise<ObjectInfo[]> {
    this.check();
    return this.inner.list(prefix);
  }
}

export interface TieredLog {
  root: string;
  log: PartitionLog;
  store: FlakyStore;
  fs: FsObjectStore;
  tier: TierManager;
  settings: TopicTierSettings;
  messages: string[];
}

export const LOG_CONFIG = config({ segmentBytes: 8192, indexIntervalBytes: 1024 });

export async function openTieredLog(root: string, settings = tieredSettings(), tierOverrides: Partial<TierConfig> = {}): Promise<TieredLog> {
  const tc = tierConfigFor(root, tierOverrides);
  const fs = new FsObjectStore(tc.fsDir);
  await fs.init();
  const store = new FlakyStore(fs);
  const log = await PartitionLog.open(join(root, "t-0"), "t", 0, LOG_CONFIG);
  const messages: string[] = [];
  const tier = new TierManager(tc, store, "cluster", (m) => messages.push(m));
  const self: TieredLog = { root, log, store, fs, tier, settings, messages };
  tier.attach(log, "TOPICID", () => self.settings);
  return self;
}

/** Appends `batches` batches of 10 records (~1.3 KB each) and waits until durable. */
export async function appendBatches(log: PartitionLog, batches: number, startTs = 1_700_000_000_000): Promise<void> {
  for (let i = 0; i < batches; i++) {
    const r = log.append(buildBatch(sampleRecords(10, startTs + i * 10, 120)), Date.now());
    if (r.errorCode !== 0) throw new Error(`append failed: ${r.errorCode} ${r.errorMessage}`);
    await r.durable;
  }
  await log.flush();
}

/** Runs tiering passes until nothing is left to upload. */
export async function drain(t: TieredLog): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    const more = await t.tier.runOnce();
    if (!more && t.tier.lag().segments === 0) return;
  }
  throw new Error("tiering did not drain");
}

/** Reads through the log, going remote when it says so (what the Fetch handler does). */
export async function readAny(t: TieredLog, offset: number, maxBytes: number): Promise<Uint8Array> {
  const r = t.log.read(offset, maxBytes);
  if (r.remote === true) return t.tier.read(t.log, offset, maxBytes, t.log.highWatermark);
  if (r.errorCode !== 0 || r.records === null) throw new Error(`read error ${r.errorCode} at ${offset}`);
  return r.records;
}
