/**
 * An ObjectStore in an S3 bucket (MinIO or any S3) through the `minio` client. Keys are used as
 * object names unchanged; path-style addressing, so a plain `http://127.0.0.1:9000` endpoint works.
 * `init` creates the bucket when it does not exist. S3 DELETE of a missing key succeeds, PUT replaces
 * atomically, so every call is idempotent as the interface requires.
 */
import type { Readable } from "node:stream";
import { Client } from "minio";
import { ObjectNotFoundError, checkKey, type ObjectInfo, type ObjectStore } from "./object-store.ts";

export interface S3StoreOptions {
  /** `http://host:port` or `https://host[:port]`. */
  endpoint: string;
  bucket: string;
  accessKey: string;
  secretKey: string;
  region: string;
}

export class S3ObjectStore implements ObjectStore {
  private readonly client: Client;

  constructor(private readonly options: S3StoreOptions) {
    const url = new URL(options.endpoint);
    const useSSL = url.protocol === "https:";
    if (!useSSL && url.protocol !== "http:") throw new Error(`S3 endpoint must be http:// or https://, got ${options.endpoint}`);
    this.client = new Client({
      endPoint: url.hostname,
      port: url.port === "" ? (useSSL ? 443 : 80) : Number(url.port),
      useSSL,
      accessKey: options.accessKey,
      secretKey: options.secretKey,
      region: options.region,
      pathStyle: true,
      // The tier manager retries with its own backoff; a failure should surface at once.
      retryOptions: { disableRetry: true },
    });
  }

  get description(): string {
    return `bucket ${this.options.bucket} at ${this.options.endpoint}`;
  }

  async init(): Promise<void> {
    if (await this.client.bucketExists(this.options.bucket)) return;
    try {
      await this.client.makeBucket(this.options.bucket, this.options.region);
    } catch (e) {
      // Created concurrently by someone else: fine.
      const code = (e as { code?: string }).code;
      if (code !== "BucketAlreadyOwnedByYou" && code !== "BucketAlreadyExists") throw e;
    }
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    checkKey(key);
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    await this.client.putObject(this.options.bucket, key, buf, buf.length);
  }

  async putFile(key: string, path: string): Promise<void> {
    checkKey(key);
    await this.client.fPutObject(this.options.bucket, key, path);
  }

  async getRange(key: string, start: number, length: number): Promise<Uint8Array> {
    checkKey(key);
    if (length <= 0) return new Uint8Array(0);
    try {
      return await collect(await this.client.getPartialObject(this.options.bucket, key, start, length));
    } catch (e) {
      if (isNotFound(e)) throw new ObjectNotFoundError(key);
      throw e;
    }
  }

  async get(key: string): Promise<Uint8Array | null> {
    checkKey(key);
    try {
      return await collect(await this.client.getObject(this.options.bucket, key));
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    await this.client.removeObject(this.options.bucket, key);
  }

  list(prefix: string): Promise<ObjectInfo[]> {
    return new Promise((resolve, reject) => {
      const out: ObjectInfo[] = [];
      const stream = this.client.listObjectsV2(this.options.bucket, prefix, true);
      stream.on("data", (item) => {
        if (item.name !== undefined) out.push({ key: item.name, size: item.size });
      });
      stream.on("error", reject);
      stream.on("end", () => resolve(out));
    });
  }
}

function isNotFound(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return code === "NoSuchKey" || code === "NotFound";
}

async function collect(stream: Readable): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const b = chunk as Buffer;
    parts.push(b);
    total += b.length;
  }
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, total);
}
