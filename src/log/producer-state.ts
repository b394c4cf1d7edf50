/**
 * Idempotent / transactional producer state of one partition, rebuilt from batch headers.
 *
 * Per producerId: the current epoch and the metadata of its last 5 batches (Kafka's
 * `max.in.flight.requests.per.connection` bound for idempotence), so a retried batch is recognised
 * and answered with the offsets it got the first time. Rules follow Kafka 4's
 * `UnifiedLog.analyzeAndValidateProducerState` and `ProducerAppendInfo`:
 *  - producerId -1: no checks, no state.
 *  - duplicate first: same epoch and one of the last 5 batches has the same first AND last
 *    sequence → the append is skipped and answered NONE with the ORIGINAL base offset (Kafka returns
 *    the duplicate's metadata, not DUPLICATE_SEQUENCE_NUMBER, since the 5-batch cache of KIP-98 v1.0).
 *  - epoch lower than the current one → INVALID_PRODUCER_EPOCH (47) (KIP-588: the produce path
 *    answers InvalidProducerEpochException, not PRODUCER_FENCED).
 *  - producer unknown to this partition (or known without an epoch): any sequence is accepted.
 *    Since KIP-360 (Kafka 2.5) the broker no longer answers UNKNOWN_PRODUCER_ID here; state may
 *    have been removed by retention/DeleteRecords, and the producer's own state is authoritative.
 *  - higher epoch: the sequence must restart at 0, else OUT_OF_ORDER_SEQUENCE_NUMBER (45).
 *  - same epoch: firstSeq must be lastSeq + 1 of the previous batch (wrapping from int32 max to 0),
 *    else OUT_OF_ORDER_SEQUENCE_NUMBER (45). With no batches remembered, lastSeq is -1.
 *  - control batches (transaction markers, written by the broker) only check the epoch and close
 *    the producer's open transaction.
 * On open the state comes from the newest valid snapshot file (producer-snapshot.ts, written at
 * every segment roll and on close, like Kafka's `.snapshot` files) plus the batch headers after it;
 * without one, from every batch header of the local log.
 */
import { ErrorCode } from "../protocol/record-batch.ts";

export const MAX_BATCHES_PER_PRODUCER = 5;
const INT32_MAX = 0x7fffffff;

export interface ProducerBatch {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  lastOffsetDelta: number;
  maxTimestamp: number;
  isTransactional: boolean;
  isControl: boolean;
}

export interface BatchMetadata {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
  timestamp: number;
}

export interface ProducerEntry {
  producerId: number;
  producerEpoch: number;
  batches: BatchMetadata[];
  lastTimestamp: number;
  coordinatorEpoch: number;
  currentTxnStartOffset: number;
}

export interface ActiveProducer {
  producerId: number;
  producerEpoch: number;
  lastSequence: number;
  lastTimestamp: number;
  coordinatorEpoch: number;
  currentTxnStartOffset: number;
}

export type ProducerCheck =
  | { kind: "ok" }
  | { kind: "duplicate"; firstOffset: number; lastOffset: number }
  | { kind: "error"; errorCode: ErrorCode; message: string };

/** Sequence of the last record of a batch; sequences wrap from int32 max to 0. */
export function lastSequenceOf(baseSequence: number, lastOffsetDelta: number): number {
  if (baseSequence > INT32_MAX - lastOffsetDelta) return lastOffsetDelta - (INT32_MAX - baseSequence) - 1;
  return baseSequence + lastOffsetDelta;
}

function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX);
}

/** The answer for a batch without producer id (most appends): shared, never modified. */
const CHECK_OK: ProducerCheck = Object.freeze({ kind: "ok" });

function cloneEntry(e: ProducerEntry): ProducerEntry {
  return { ...e, batches: e.batches.slice() };
}

/**
 * Checks of one append, staged: batches of the same append see each other's effects, and nothing
 * reaches the partition's state until `commit` (called once the bytes are written).
 */
export class ProducerAppend {
  /** Created by the first staged batch of an idempotent producer (most appends have none). */
  private staged: Map<number, ProducerEntry> | null = null;

  constructor(private readonly state: ProducerStateManager) {}

  private entry(producerId: number): ProducerEntry | undefined {
    return this.staged?.get(producerId) ?? this.state.get(producerId);
  }

  check(batch: ProducerBatch): ProducerCheck {
    if (batch.producerId < 0) return CHECK_OK;
    const entry = this.entry(batch.producerId);
    const lastSeq = lastSequenceOf(batch.baseSequence, batch.lastOffsetDelta);
    if (entry !== undefined && !batch.isControl && entry.producerEpoch === batch.producerEpoch) {
      const dup = entry.batches.find((b) => b.firstSeq === batch.baseSequence && b.lastSeq === lastSeq);
      if (dup !== undefined) return { kind: "duplicate", firstOffset: dup.firstOffset, lastOffset: dup.lastOffset };
    }
    if (entry !== undefined && batch.producerEpoch < entry.producerEpoch) {
      return {
        kind: "error",
        errorCode: ErrorCode.INVALID_PRODUCER_EPOCH,
        message: `producer ${batch.producerId} epoch ${batch.producerEpoch} is older than current epoch ${entry.producerEpoch}`,
      };
    }
    if (batch.isControl || entry === undefined || entry.producerEpoch < 0) return CHECK_OK;
    if (batch.producerEpoch !== entry.producerEpoch) {
      if (batch.baseSequence !== 0) {
        return {
          kind: "error",
          errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
          message: `producer ${batch.producerId} new epoch ${batch.producerEpoch} must start at sequence 0, got ${batch.baseSequence}`,
        };
      }
      return CHECK_OK;
    }
    const current = entry.batches[entry.batches.length - 1]?.lastSeq ?? -1;
    if (!inSequence(current, batch.baseSequence)) {
      return {
        kind: "error",
        errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        message: `producer ${batch.producerId} out of order sequence: expected ${current === INT32_MAX ? 0 : current + 1}, got ${batch.baseSequence}`,
      };
    }
    return CHECK_OK;
  }

  /** Records a batch that passed `check` and was given offsets [firstOffset, lastOffset]. */
  stage(batch: ProducerBatch, firstOffset: number, lastOffset: number): void {
    if (batch.producerId < 0) return;
    const existing = this.entry(batch.producerId);
    const entry: ProducerEntry =
      existing === undefined
        ? {
            producerId: batch.producerId,
            producerEpoch: batch.producerEpoch,
            batches: [],
            lastTimestamp: -1,
            coordinatorEpoch: -1,
            currentTxnStartOffset: -1,
          }
        : this.staged?.get(batch.producerId) ?? cloneEntry(existing);
    if (batch.producerEpoch !== entry.producerEpoch) {
      entry.producerEpoch = batch.producerEpoch;
      entry.batches = [];
    }
    entry.lastTimestamp = batch.maxTimestamp;
    if (batch.isControl) {
      entry.currentTxnStartOffset = -1;
    } else {
      entry.batches.push({
        firstSeq: batch.baseSequence,
        lastSeq: lastSequenceOf(batch.baseSequence, batch.lastOffsetDelta),
        firstOffset,
        lastOffset,
        timestamp: batch.maxTimestamp,
      });
      if (entry.batches.length > MAX_BATCHES_PER_PRODUCER) entry.batches.shift();
      if (batch.isTransactional && entry.currentTxnStartOffset < 0) entry.currentTxnStartOffset = firstOffset;
    }
    (this.staged ??= new Map()).set(batch.producerId, entry);
  }

  commit(): void {
    if (this.staged === null) return;
    for (const [id, entry] of this.staged) this.state.set(id, entry);
    this.staged = null;
  }
}

export class ProducerStateManager {
  private readonly producers = new Map<number, ProducerEntry>();

  get(producerId: number): ProducerEntry | undefined {
    return this.producers.get(producerId);
  }

  set(producerId: number, entry: ProducerEntry): void {
    this.producers.set(producerId, entry);
  }

  begin(): ProducerAppend {
    return new ProducerAppend(this);
  }

  /** Applies a batch found during recovery without checks (the log is the truth). */
  replay(batch: ProducerBatch, firstOffset: number, lastOffset: number): void {
    const a = this.begin();
    a.stage(batch, firstOffset, lastOffset);
    a.commit();
  }

  clear(): void {
    this.producers.clear();
  }

  get size(): number {
    return this.producers.size;
  }

  /** Copies of every entry. */
  entries(): ProducerEntry[] {
    return [...this.producers.values()].map(cloneEntry);
  }

  /** The live entries, not copied (encoding a snapshot synchronously needs no copy); do not mutate. */
  view(): readonly Readonly<ProducerEntry>[] {
    return [...this.producers.values()];
  }

  /** Replaces the whole state (loading a snapshot). */
  load(entries: readonly ProducerEntry[]): void {
    this.producers.clear();
    for (const e of entries) this.producers.set(e.producerId, cloneEntry(e));
  }

  /**
   * Kafka's producer-id expiry (`producer.id.expiration.ms`, KIP-854): forgets producers whose last
   * batch timestamp is at least `expirationMs` old, unless a transaction of theirs is open. Without
   * it, every idempotent producer that ever wrote would stay in memory and in every snapshot. A
   * forgotten producer that comes back is accepted at any sequence (unknown producers are, KIP-360).
   */
  removeExpired(nowMs: number, expirationMs: number): number {
    let removed = 0;
    for (const [id, e] of this.producers) {
      if (e.currentTxnStartOffset >= 0 || nowMs - e.lastTimestamp < expirationMs) continue;
      this.producers.delete(id);
      removed++;
    }
    return removed;
  }

  active(): ActiveProducer[] {
    const out: ActiveProducer[] = [];
    for (const e of this.producers.values()) {
      out.push({
        producerId: e.producerId,
        producerEpoch: e.producerEpoch,
        lastSequence: e.batches[e.batches.length - 1]?.lastSeq ?? -1,
        lastTimestamp: e.lastTimestamp,
        coordinatorEpoch: e.coordinatorEpoch,
        currentTxnStartOffset: e.currentTxnStartOffset,
      });
    }
    return out;
  }
}
