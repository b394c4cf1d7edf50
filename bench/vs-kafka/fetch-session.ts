/**
 * The consumer side of an incremental fetch session (KIP-227), as the Java consumer and librdkafka
 * keep one: the first request (session id 0, epoch 0) lists every partition and opens a session;
 * each later request carries the session id and the next epoch and lists only the partitions whose
 * fetch offset moved since it was last sent; the broker answers only partitions with news. When
 * the broker forgets the session (FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH) or
 * cannot open one (session id 0 in the answer), the next request is a full one again.
 */
import type { FetchRequest } from "../../src/protocol/generated/fetch-request.ts";

type FetchPartition = FetchRequest["topics"][number]["partitions"][number];

/** Fetch error codes that mean "start a new session" (Kafka's Errors). */
export const FETCH_SESSION_ID_NOT_FOUND = 70;
export const INVALID_FETCH_SESSION_EPOCH = 71;

export class FetchSessionClient {
  private sessionId = 0;
  private epoch = 0;
  /** The fetch offset the session holds for each partition (-1: never sent). */
  private readonly sent: number[];

  constructor(
    private readonly topic: string,
    partitions: number,
    private readonly partitionMaxBytes: number,
  ) {
    this.sent = new Array<number>(partitions).fill(-1);
  }

  /** The next request for fetching from `offsets` (indexed by partition). */
  request(offsets: readonly number[], maxWaitMs: number, maxBytes: number): FetchRequest {
    const full = this.sessionId === 0;
    const partitions: FetchPartition[] = [];
    for (let p = 0; p < offsets.length; p++) {
      const offset = offsets[p] as number;
      if (!full && this.sent[p] === offset) continue;
      partitions.push({ partition: p, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: this.partitionMaxBytes });
      this.sent[p] = offset;
    }
    return {
      replicaId: -1,
      maxWaitMs,
      minBytes: 1,
      maxBytes,
      isolationLevel: 0,
      sessionId: this.sessionId,
      sessionEpoch: full ? 0 : this.epoch,
      topics: partitions.length > 0 ? [{ topic: this.topic, partitions }] : [],
      forgottenTopicsData: [],
      rackId: "",
    };
  }

  /**
   * Takes the answer's session fields. Returns false when the session is gone and the request must
   * be sent again as a full one (the answer carries no data then).
   */
  answered(errorCode: number, sessionId: number): boolean {
    if (errorCode === FETCH_SESSION_ID_NOT_FOUND || errorCode === INVALID_FETCH_SESSION_EPOCH) {
      this.reset();
      return false;
    }
    if (errorCode !== 0) return true; // another error: the caller reports it
    if (this.sessionId === 0) {
      this.sessionId = sessionId;
      this.epoch = 1;
      if (sessionId === 0) this.sent.fill(-1); // no session: the next request is full again
    } else {
      this.epoch = this.epoch >= 0x7fffffff ? 1 : this.epoch + 1;
    }
    return true;
  }

  private reset(): void {
    this.sessionId = 0;
    this.epoch = 0;
    this.sent.fill(-1);
  }
}
