/**
 * A durable key/value log with compaction: the storage under the group coordinator (Bunka's
 * `__consumer_offsets`). Writes are record batches appended to a PartitionLog; a write resolves once
 * its batch is fsynced. The newest value per key is also kept in memory, which is what makes
 * compaction simple: when the log grows past `compactMinBytes` and twice its live size, the live map is
 * written as a fresh log generation and the old one is dropped. Tombstones vanish at that point:
 * nothing but this broker ever reads the log, so there is no reader that could miss a delete
 * (Kafka keeps them for delete.retention.ms for consumers of the topic).
 *
 * Layout under `dir`:
 *   CURRENT        the generation in use (decimal), replaced atomically (temp + fsync + rename)
 *   log-<gen>/     that generation's PartitionLog segments
 * A generation switch: open log-<gen+1>, append the live map to it and route new writes there (one
 * synchronous step, so no write is lost between the snapshot and the switch), fsync it, then flip
 * CURRENT, then delete the old directory. Writes made to the new log before CURRENT flips are
 * acknowledged only after the flip, so a crash at any point recovers from a generation holding
 * every acknowledged write. Any `log-*` directory other than CURRENT's is a leftover and removed.
 */
import * as fs from "node:fs";
import { join } from "node:path";
import { buildRecordBatch } from "../client/record-batch-builder.ts";
import { writeFileAtomic, writeFileAtomicSync } from "../log/atomic-file.ts";
import { DEFAULT_LOG_CONFIG, type LogConfig } from "../log/log-config.ts";
import { PartitionLog } from "../log/partition-log.ts";
import { decodeBatches } from "./batch-records.ts";

export interface KeyValue {
  key: Uint8Array;
  value: Uint8Array | null;
}

export interface CompactedLogOptions {
  /** Never compact below this many bytes of log. */
  compactMinBytes: number;
  /** Largest batch (the internal log's max.message.bytes). */
  maxBatchBytes: number;
  segmentBytes: number;
  log: (msg: string) => void;
}

const CURRENT = "CURRENT";
const READ_CHUNK = 8 * 1024 * 1024;
/** Records per batch when a generation is rewritten. */
const SNAPSHOT_BATCH_RECORDS = 2000;

function genDirName(gen: number): string {
  return `log-${String(gen).padStart(10, "0")}`;
}

function mapKey(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("latin1");
}

export class CompactedLog {
  private readonly live = new Map<string, { key: Uint8Array; value: Uint8Array }>();
  private liveBytes = 0;
  /** Log size right after the last compaction: record overhead must not make it compact again at once. */
  private baseline = 0;
  private barrier: Promise<void> | null = null;
  private compaction: Promise<void> | null = null;
  private failure: Error | null = null;
  private closed = false;
  /** Generations written (for tests and metrics). */
  compactions = 0;

  private constructor(
    readonly dir: string,
    private generation: number,
    private log: PartitionLog,
    private readonly options: CompactedLogOptions,
  ) {}

  /** Opens (creating) the log and replays it; `entries()` then holds the recovered state. */
  static async open(dir: string, options: CompactedLogOptions): Promise<CompactedLog> {
    fs.mkdirSync(dir, { recursive: true });
    const currentPath = join(dir, CURRENT);
    let gen: number;
    if (fs.existsSync(currentPath)) {
      gen = Number.parseInt(fs.readFileSync(currentPath, "utf8").trim(), 10);
      if (!Number.isSafeInteger(gen) || gen < 1) throw new Error(`${currentPath}: not a generation number`);
    } else {
      gen = 1;
      writeFileAtomicSync(currentPath, new TextEncoder().encode(`${gen}\n`));
    }
    for (const name of fs.readdirSync(dir)) {
      if (name.startsWith("log-") && name !== genDirName(gen)) fs.rmSync(join(dir, name), { recursive: true, force: true });
    }
    const log = await PartitionLog.open(join(dir, genDirName(gen)), "__bunka_consumer_offsets", 0, logConfig(options));
    const self = new CompactedLog(dir, gen, log, options);
    self.replay();
    return self;
  }

  get sizeInBytes(): number {
    return this.log.sizeInBytes();
  }

  get liveSize(): number {
    return this.liveBytes;
  }

  /** The newest non-deleted value of every key, in no particular order. */
  *entries(): IterableIterator<{ key: Uint8Array; value: Uint8Array }> {
    yield* this.live.values();
  }

  /**
   * Appends the records as one batch; resolves when it is durable. The in-memory map changes at
   * once (it is the source of the next compaction snapshot, which must include in-flight writes).
   */
  async write(records: readonly KeyValue[]): Promise<void> {
    if (records.length === 0) return;
    if (this.failure !== null) throw this.failure;
    if (this.closed) throw new Error("group log closed");
    const batch = buildRecordBatch(records.map((r) => ({ key: r.key, value: r.value })));
    const res = this.log.append(batch, Date.now());
    if (res.errorCode !== 0) throw new Error(`group log append failed (error ${res.errorCode}): ${res.errorMessage ?? ""}`);
    for (const r of records) this.apply(r.key, r.value);
    const barrier = this.barrier;
    this.maybeCompact();
    await res.durable;
    if (barrier !== null) await barrier;
  }

  /** Waits for a running compaction, flushes and closes. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.compaction) await this.compaction.catch(() => {});
    await this.log.close();
  }

  /** Starts a compaction now (tests); resolves when it is done. */
  compactNow(): Promise<void> {
    this.compaction ??= this.compact().finally(() => (this.compaction = null));
    return this.compaction;
  }

  private replay(): void {
    let offset = this.log.logStartOffset;
    const end = this.log.logEndOffset;
    while (offset < end) {
      const res = this.log.read(offset, READ_CHUNK, end);
      if (res.errorCode !== 0 || res.records === null) throw new Error(`group log read at ${offset} failed (error ${res.errorCode})`);
      if (res.records.length === 0) break;
      const decoded = decodeBatches(res.records, offset);
      if (decoded.nextOffset <= offset) throw new Error(`group log replay made no progress at offset ${offset}`);
      for (const r of decoded.records) if (r.key !== null) this.apply(r.key, r.value);
      offset = decoded.nextOffset;
    }
  }

  private apply(key: Uint8Array, value: Uint8Array | null): void {
    const k = mapKey(key);
    const old = this.live.get(k);
    if (old) this.liveBytes -= old.key.length + old.value.length;
    if (value === null) {
      this.live.delete(k);
      return;
    }
    this.live.set(k, { key, value });
    this.liveBytes += key.length + value.length;
  }

  private maybeCompact(): void {
    if (this.compaction !== null || this.closed) return;
    const size = this.log.sizeInBytes();
    if (size < this.options.compactMinBytes || size < 2 * Math.max(this.liveBytes, this.baseline)) return;
    void this.compactNow().catch(() => {});
  }

  private async compact(): Promise<void> {
    const next = this.generation + 1;
    const nextDir = join(this.dir, genDirName(next));
    fs.rmSync(nextDir, { recursive: true, force: true });
    const fresh = await PartitionLog.open(nextDir, "__bunka_consumer_offsets", 0, logConfig(this.options));
    if (this.closed || this.failure !== null) {
      await fresh.delete();
      return;
    }
    // Synchronous from here to the switch: no write can slip between snapshot and switch.
    const old = this.log;
    let chunk: { key: Uint8Array; value: Uint8Array }[] = [];
    let chunkBytes = 0;
    const flushChunk = (): void => {
      if (chunk.length === 0) return;
      const res = fresh.append(buildRecordBatch(chunk), Date.now());
      if (res.errorCode !== 0) throw new Error(`compaction append failed (error ${res.errorCode})`);
      chunk = [];
      chunkBytes = 0;
    };
    try {
      for (const e of this.live.values()) {
        const size = e.key.length + e.value.length + 32;
        if (chunk.length >= SNAPSHOT_BATCH_RECORDS || (chunk.length > 0 && chunkBytes + size > this.options.maxBatchBytes / 2)) flushChunk();
        chunk.push(e);
        chunkBytes += size;
      }
      flushChunk();
    } catch (err) {
      await fresh.delete().catch(() => {});
      throw err;
    }
    this.log = fresh;
    let release!: () => void;
    let reject!: (e: Error) => void;
    const barrier = new Promise<void>((res, rej) => ((release = res), (reject = rej)));
    barrier.catch(() => {});
    this.barrier = barrier;
    try {
      await fresh.flush();
      await writeFileAtomic(join(this.dir, CURRENT), new TextEncoder().encode(`${next}\n`));
    } catch (err) {
      // Writes since the switch live only in a generation CURRENT does not name: refuse them and
      // every later write (the broker must restart to recover from a storage failure here).
      this.failure = new Error(`group log compaction failed: ${(err as Error).message}`);
      reject(this.failure);
      this.options.log(this.failure.message);
      throw this.failure;
    }
    this.generation = next;
    release();
    if (this.barrier === barrier) this.barrier = null;
    this.compactions++;
    this.baseline = fresh.sizeInBytes();
    await old.close();
    fs.rmSync(old.dir, { recursive: true, force: true });
    this.options.log(`group log compacted to generation ${next}: ${this.live.size} keys, ${fresh.sizeInBytes()} bytes`);
  }
}

function logConfig(options: CompactedLogOptions): LogConfig {
  return {
    ...DEFAULT_LOG_CONFIG,
    segmentBytes: options.segmentBytes,
    retentionMs: -1,
    retentionBytes: -1,
    maxMessageBytes: options.maxBatchBytes,
    fileDeleteDelayMs: 0,
    flushIntervalMessages: null,
    flushIntervalMs: null,
  };
}
