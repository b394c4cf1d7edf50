/**
 * The object store the tiering layer writes to: a flat namespace of immutable objects named by
 * `/`-separated keys. Every operation is idempotent, so any of them can be retried after a failure
 * or a crash without harm:
 *   put / putFile  write the whole object (readers see the old object, none, or the new one; never
 *                  a prefix of it);
 *   getRange       reads `length` bytes at `start` (fewer only at the end of the object);
 *   get            the whole object, or null when it does not exist;
 *   delete         removes the object; deleting a missing key succeeds;
 *   list           every object whose key starts with `prefix`, with its size.
 * Implementations: FsObjectStore (a directory; the embedded default) and S3ObjectStore (MinIO or
 * any S3 through the `minio` client). TimeoutObjectStore bounds the time of each call.
 */
export interface ObjectInfo {
  key: string;
  size: number;
}

export interface ObjectStore {
  /** For log lines: what and where the store is. */
  readonly description: string;
  /** Prepares the store (creates the bucket or root directory when missing). */
  init(): Promise<void>;
  put(key: string, data: Uint8Array): Promise<void>;
  /** Uploads a local file, streaming it (segments can be large). */
  putFile(key: string, path: string): Promise<void>;
  getRange(key: string, start: number, length: number): Promise<Uint8Array>;
  get(key: string): Promise<Uint8Array | null>;
  delete(key: string): Promise<void>;
  list(prefix: string): Promise<ObjectInfo[]>;
}

/** A read of a key that does not exist. */
export class ObjectNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`object ${key} not found`);
  }
}

/** Keys are relative, `/`-separated, without empty, `.` or `..` parts (safe as file paths too). */
export function checkKey(key: string): void {
  if (key.length === 0 || key.length > 1024) throw new Error(`invalid object key "${key}"`);
  for (const part of key.split("/")) {
    if (part === "" || part === "." || part === "..") throw new Error(`invalid object key "${key}"`);
  }
}
