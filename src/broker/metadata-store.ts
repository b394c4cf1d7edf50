/**
 * The broker's small durable state: cluster id, topics (name, stable topic id, partition count,
 * config overrides) and the producer-id high-water block. Stored as one msgpackr file written
 * crash-safely (temp file, fsync, rename, fsync dir), so after a crash it is either the old or the
 * new version, never a mix. Writes are serialised; callers await the write that covers their change.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pack, unpack } from "msgpackr";
import { writeFileAtomic } from "../log/atomic-file.ts";

export interface TopicRecord {
  name: string;
  /** 32 lowercase hex chars; stable across restarts (Fetch v13+ and Metadata v10+ use it). */
  id: string;
  partitions: number;
  configs: Record<string, string>;
  createdAtMs: number;
}

interface StoredState {
  version: 1;
  clusterId: string;
  topics: TopicRecord[];
  /** Producer ids below this may have been handed out; the next allocation starts here. */
  producerIdBlockEnd: number;
}

const FILE_NAME = "bunka-metadata.msgpack";

export class MetadataStore {
  readonly topics = new Map<string, TopicRecord>();
  readonly topicsById = new Map<string, TopicRecord>();
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly path: string,
    readonly clusterId: string,
    private producerIdBlockEndValue: number,
  ) {}

  static async open(dataDir: string): Promise<MetadataStore> {
    const path = join(dataDir, FILE_NAME);
    if (!existsSync(path)) {
      const store = new MetadataStore(path, newClusterId(), 0);
      await store.save();
      return store;
    }
    const state = unpack(readFileSync(path)) as StoredState;
    if (state?.version !== 1) throw new Error(`${path}: unknown metadata version ${String(state?.version)}`);
    const store = new MetadataStore(path, state.clusterId, state.producerIdBlockEnd);
    for (const t of state.topics) store.put(t);
    return store;
  }

  get producerIdBlockEnd(): number {
    return this.producerIdBlockEndValue;
  }

  set producerIdBlockEnd(v: number) {
    this.producerIdBlockEndValue = v;
  }

  put(topic: TopicRecord): void {
    this.topics.set(topic.name, topic);
    this.topicsById.set(topic.id, topic);
  }

  remove(name: string): TopicRecord | undefined {
    const t = this.topics.get(name);
    if (!t) return undefined;
    this.topics.delete(name);
    this.topicsById.delete(t.id);
    return t;
  }

  /** Persists the current state; concurrent calls are chained so the last write holds the newest state. */
  save(): Promise<void> {
    const next = this.writing.then(() => {
      const state: StoredState = {
        version: 1,
        clusterId: this.clusterId,
        topics: [...this.topics.values()],
        producerIdBlockEnd: this.producerIdBlockEndValue,
      };
      return writeFileAtomic(this.path, pack(state));
    });
    this.writing = next.catch(() => undefined);
    return next;
  }
}

/** Kafka cluster ids are 16 random bytes in URL-safe base64 without padding (22 chars). */
function newClusterId(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64url");
}

export function newTopicId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Buffer.from(bytes).toString("hex");
}
