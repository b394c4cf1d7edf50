/**
 * Hands out producer ids for idempotent producers. Ids are reserved in blocks whose end is persisted
 * before any id of the block is used, so a restart (even after kill -9) never reuses an id.
 */
import type { MetadataStore } from "./metadata-store.ts";

const BLOCK_SIZE = 1000;
const MAX_EPOCH = 32767;

export class ProducerIdManager {
  private next: number;
  private reserving: Promise<void> | null = null;

  constructor(private readonly store: MetadataStore) {
    this.next = store.producerIdBlockEnd;
  }

  async allocate(): Promise<number> {
    while (this.next >= this.store.producerIdBlockEnd) {
      if (!this.reserving) {
        this.store.producerIdBlockEnd = this.next + BLOCK_SIZE;
        this.reserving = this.store.save().finally(() => (this.reserving = null));
      }
      await this.reserving;
    }
    return this.next++;
  }

  /**
   * KIP-360: an idempotent producer that lost its state re-initialises with its current id and epoch;
   * it gets the same id with the next epoch, or a fresh id once the epoch would overflow.
   */
  async bump(producerId: number, epoch: number): Promise<{ producerId: number; epoch: number }> {
    if (producerId >= 0 && producerId < this.store.producerIdBlockEnd && epoch >= 0 && epoch < MAX_EPOCH - 1) {
      return { producerId, epoch: epoch + 1 };
    }
    return { producerId: await this.allocate(), epoch: 0 };
  }
}
