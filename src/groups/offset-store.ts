/**
 * Committed offsets in memory, per group and partition: what OffsetFetch answers from. Only
 * durable commits are put here (the coordinator awaits the group log first), so a fetch never
 * returns an offset a crash could take back. Shared by every kind of group.
 */
import type { OffsetValue } from "./record-codec.ts";

export interface CommittedOffset extends OffsetValue {
  topic: string;
  partition: number;
}

function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export class OffsetStore {
  private readonly byGroup = new Map<string, Map<string, CommittedOffset>>();

  put(group: string, c: CommittedOffset): void {
    let m = this.byGroup.get(group);
    if (!m) this.byGroup.set(group, (m = new Map()));
    m.set(tpKey(c.topic, c.partition), c);
  }

  get(group: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.byGroup.get(group)?.get(tpKey(topic, partition));
  }

  delete(group: string, topic: string, partition: number): void {
    const m = this.byGroup.get(group);
    if (!m) return;
    m.delete(tpKey(topic, partition));
    if (m.size === 0) this.byGroup.delete(group);
  }

  deleteGroup(group: string): void {
    this.byGroup.delete(group);
  }

  hasOffsets(group: string): boolean {
    return (this.byGroup.get(group)?.size ?? 0) > 0;
  }

  /** All of a group's offsets, sorted by topic then partition. */
  list(group: string): CommittedOffset[] {
    const m = this.byGroup.get(group);
    if (!m) return [];
    return [...m.values()].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  }

  groups(): IterableIterator<string> {
    return this.byGroup.keys();
  }
}
