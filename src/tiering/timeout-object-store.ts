/**
 * Bounds the time of every call to another ObjectStore: a store that hangs (a stalled network,
 * an overloaded server) then fails like one that is down, and the tier manager's backoff takes over.
 * The abandoned call may still complete later; every call being idempotent, that is harmless.
 * Whole-file uploads get extra time per byte (at least `minUploadBytesPerSec`).
 */
import { statSync } from "node:fs";
import type { ObjectInfo, ObjectStore } from "./object-store.ts";
import { timerDelay } from "../util/long-timeout.ts";

export class StoreTimeoutError extends Error {}

export class TimeoutObjectStore implements ObjectStore {
  constructor(
    private readonly inner: ObjectStore,
    private readonly timeoutMs: number,
    private readonly minUploadBytesPerSec = 1024 * 1024,
  ) {}

  get description(): string {
    return this.inner.description;
  }

  init(): Promise<void> {
    return this.bound("init", this.timeoutMs, () => this.inner.init());
  }

  put(key: string, data: Uint8Array): Promise<void> {
    return this.bound(`put ${key}`, this.timeoutMs + this.transferMs(data.length), () => this.inner.put(key, data));
  }

  putFile(key: string, path: string): Promise<void> {
    let size = 0;
    try {
      size = statSync(path).size;
    } catch {
      // The inner call reports the missing file.
    }
    return this.bound(`put ${key}`, this.timeoutMs + this.transferMs(size), () => this.inner.putFile(key, path));
  }

  getRange(key: string, start: number, length: number): Promise<Uint8Array> {
    return this.bound(`get ${key}`, this.timeoutMs + this.transferMs(length), () => this.inner.getRange(key, start, length));
  }

  get(key: string): Promise<Uint8Array | null> {
    return this.bound(`get ${key}`, this.timeoutMs, () => this.inner.get(key));
  }

  delete(key: string): Promise<void> {
    return this.bound(`delete ${key}`, this.timeoutMs, () => this.inner.delete(key));
  }

  list(prefix: string): Promise<ObjectInfo[]> {
    return this.bound(`list ${prefix}`, this.timeoutMs, () => this.inner.list(prefix));
  }

  private transferMs(bytes: number): number {
    return Math.ceil((bytes / this.minUploadBytesPerSec) * 1000);
  }

  private bound<T>(what: string, ms: number, call: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new StoreTimeoutError(`object store: ${what} timed out after ${ms} ms`)), timerDelay(ms));
      call().then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(timer);
          reject(e);
        },
      );
    });
  }
}
