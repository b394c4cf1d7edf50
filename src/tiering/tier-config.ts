/**
 * Tiering settings of the broker, from its config keys (src/config/broker-config.ts) with
 * environment fallbacks for the S3 connection (so credentials need not sit in a properties file):
 *
 *   remote.log.storage.system.enable   tiering on this broker (default true; topics opt in)
 *   remote.log.manager.task.interval.ms  upload / remote-retention pass period (default 2000)
 *   remote.fetch.max.wait.ms           longest a Fetch waits for remote reads (default 500)
 *   bunka.tier.store                   fs | s3 (default: s3 when an endpoint is set, else fs)
 *   bunka.tier.fs.dir                  default <data>/__bunka_internal/tier
 *   bunka.tier.s3.endpoint   / BUNKA_TIER_S3_ENDPOINT
 *   bunka.tier.s3.bucket     / BUNKA_TIER_S3_BUCKET      (default bunka)
 *   bunka.tier.s3.access.key / BUNKA_TIER_S3_ACCESS_KEY, AWS_ACCESS_KEY_ID
 *   bunka.tier.s3.secret.key / BUNKA_TIER_S3_SECRET_KEY, AWS_SECRET_ACCESS_KEY
 *   bunka.tier.s3.region     / BUNKA_TIER_S3_REGION, AWS_REGION (default us-east-1)
 *   bunka.tier.prefix        key prefix (default: the cluster id)
 *   bunka.tier.upload.concurrency      partitions worked on at once in a pass (default 4)
 *   bunka.tier.op.timeout.ms, bunka.tier.chunk.bytes, bunka.tier.chunk.cache.bytes, bunka.hot.cache.bytes
 */
import { join } from "node:path";
import { brokerConfigValue, ConfigError, type BrokerConfig } from "../config/broker-config.ts";
import type { S3StoreOptions } from "./s3-object-store.ts";

/** Internal state lives here; the name never matches the `<topic>-<n>` partition directories. */
export const INTERNAL_DIR = "__bunka_internal";

export const DEFAULT_UPLOAD_CONCURRENCY = 4;

export interface TierConfig {
  enabled: boolean;
  store: "fs" | "s3";
  fsDir: string;
  s3: S3StoreOptions | null;
  /** null: the cluster id. */
  prefix: string | null;
  taskIntervalMs: number;
  /** remote.fetch.max.wait.ms: a Fetch waits this long at most for remote reads. */
  remoteFetchMaxWaitMs: number;
  opTimeoutMs: number;
  /** Partitions whose pass work runs concurrently (absent: DEFAULT_UPLOAD_CONCURRENCY). */
  uploadConcurrency?: number;
  chunkBytes: number;
  chunkCacheBytes: number;
  hotCacheBytes: number;
}

export function tierConfig(config: BrokerConfig, env: Record<string, string | undefined> = process.env): TierConfig {
  const value = (name: string) => brokerConfigValue(config, name);
  const str = (name: string, ...envNames: string[]): string | null => {
    const v = value(name);
    if (typeof v === "string" && v !== "") return v;
    for (const e of envNames) {
      const ev = env[e];
      if (ev !== undefined && ev !== "") return ev;
    }
    return null;
  };
  const endpoint = str("bunka.tier.s3.endpoint", "BUNKA_TIER_S3_ENDPOINT");
  const store = (str("bunka.tier.store", "BUNKA_TIER_STORE") ?? (endpoint !== null ? "s3" : "fs")) as "fs" | "s3";
  if (store !== "fs" && store !== "s3") throw new ConfigError(`bunka.tier.store must be fs or s3, got ${String(store)}`);
  let s3: S3StoreOptions | null = null;
  if (store === "s3") {
    if (endpoint === null) throw new ConfigError("bunka.tier.store=s3 needs bunka.tier.s3.endpoint (or BUNKA_TIER_S3_ENDPOINT)");
    s3 = {
      endpoint,
      bucket: str("bunka.tier.s3.bucket", "BUNKA_TIER_S3_BUCKET") ?? "bunka",
      accessKey: str("bunka.tier.s3.access.key", "BUNKA_TIER_S3_ACCESS_KEY", "AWS_ACCESS_KEY_ID") ?? "",
      secretKey: str("bunka.tier.s3.secret.key", "BUNKA_TIER_S3_SECRET_KEY", "AWS_SECRET_ACCESS_KEY") ?? "",
      region: str("bunka.tier.s3.region", "BUNKA_TIER_S3_REGION", "AWS_REGION") ?? "us-east-1",
    };
  }
  return {
    enabled: value("remote.log.storage.system.enable") as boolean,
    store,
    fsDir: str("bunka.tier.fs.dir") ?? join(config.dataDir, INTERNAL_DIR, "tier"),
    s3,
    prefix: str("bunka.tier.prefix"),
    taskIntervalMs: value("remote.log.manager.task.interval.ms") as number,
    remoteFetchMaxWaitMs: value("remote.fetch.max.wait.ms") as number,
    opTimeoutMs: value("bunka.tier.op.timeout.ms") as number,
    uploadConcurrency: value("bunka.tier.upload.concurrency") as number,
    chunkBytes: value("bunka.tier.chunk.bytes") as number,
    chunkCacheBytes: value("bunka.tier.chunk.cache.bytes") as number,
    hotCacheBytes: value("bunka.hot.cache.bytes") as number,
  };
}
