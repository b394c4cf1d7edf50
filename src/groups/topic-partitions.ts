/**
 * Sets of partitions keyed by topic id, as KIP-848 groups handle them (assignments, owned
 * partitions, pending revocations). Small value helpers; maps are never shared between owners.
 */
export type TopicPartitions = Map<string, Set<number>>;

/** The wire shape: one entry per topic with sorted partitions. */
export interface WireTopicPartitions {
  topicId: string;
  partitions: number[];
}

export function partitionKey(topicId: string, partition: number): string {
  return `${topicId}:${partition}`;
}

export function clonePartitions(tp: TopicPartitions): TopicPartitions {
  const out: TopicPartitions = new Map();
  for (const [t, ps] of tp) if (ps.size > 0) out.set(t, new Set(ps));
  return out;
}

export function fromWire(list: readonly WireTopicPartitions[]): TopicPartitions {
  const out: TopicPartitions = new Map();
  for (const t of list) {
    if (t.partitions.length === 0) continue;
    let set = out.get(t.topicId);
    if (!set) out.set(t.topicId, (set = new Set()));
    for (const p of t.partitions) set.add(p);
  }
  return out;
}

export function toWire(tp: TopicPartitions): WireTopicPartitions[] {
  const out: WireTopicPartitions[] = [];
  for (const [topicId, ps] of [...tp].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    if (ps.size > 0) out.push({ topicId, partitions: [...ps].sort((a, b) => a - b) });
  }
  return out;
}

export function countPartitions(tp: TopicPartitions): number {
  let n = 0;
  for (const ps of tp.values()) n += ps.size;
  return n;
}

export function hasPartition(tp: TopicPartitions, topicId: string, partition: number): boolean {
  return tp.get(topicId)?.has(partition) ?? false;
}

export function addPartition(tp: TopicPartitions, topicId: string, partition: number): void {
  let set = tp.get(topicId);
  if (!set) tp.set(topicId, (set = new Set()));
  set.add(partition);
}

export function partitionsEqual(a: TopicPartitions, b: TopicPartitions): boolean {
  if (countPartitions(a) !== countPartitions(b)) return false;
  for (const [t, ps] of a) for (const p of ps) if (!hasPartition(b, t, p)) return false;
  return true;
}

/** Every partition of `a` is in `b`. */
export function isSubset(a: TopicPartitions, b: TopicPartitions): boolean {
  for (const [t, ps] of a) for (const p of ps) if (!hasPartition(b, t, p)) return false;
  return true;
}

/** Some partition of `a` is in `b`. */
export function intersects(a: TopicPartitions, b: TopicPartitions): boolean {
  for (const [t, ps] of a) for (const p of ps) if (hasPartition(b, t, p)) return true;
  return false;
}

export function* eachPartition(tp: TopicPartitions): IterableIterator<[string, number]> {
  for (const [t, ps] of tp) for (const p of ps) yield [t, p];
}
