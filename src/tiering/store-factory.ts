/** Builds the configured object store, each call bounded in time. */
import { FsObjectStore } from "./fs-object-store.ts";
import type { ObjectStore } from "./object-store.ts";
import { S3ObjectStore } from "./s3-object-store.ts";
import type { TierConfig } from "./tier-config.ts";
import { TimeoutObjectStore } from "./timeout-object-store.ts";

export function createObjectStore(config: TierConfig): ObjectStore {
  const inner = config.store === "s3" && config.s3 !== null ? new S3ObjectStore(config.s3) : new FsObjectStore(config.fsDir);
  return new TimeoutObjectStore(inner, config.opTimeoutMs);
}
