/**
 * The "range" server assignor: per topic, its subscribers (ordered by member id) get contiguous
 * ranges of partitions, the first `P mod N` of them one more. Members subscribed to the same topics
 * get the same partition numbers of each, which is what co-partitioned joins want. Not sticky
 * (Kafka's server-side range assignor keeps previous ranges when quotas allow; this one recomputes).
 */
import type { TopicPartitions } from "../topic-partitions.ts";
import { sortedMembers, type ServerAssignor } from "./types.ts";

export const rangeAssignor: ServerAssignor = {
  name: "range",
  assign(input, topics) {
    const members = sortedMembers(input);
    const out = new Map<string, TopicPartitions>(members.map((m) => [m.memberId, new Map()]));
    for (const topic of topics.values()) {
      const subs = members.filter((m) => m.subscribedTopicIds.has(topic.id));
      if (subs.length === 0) continue;
      const base = Math.floor(topic.partitions / subs.length);
      const extra = topic.partitions % subs.length;
      let next = 0;
      subs.forEach((m, i) => {
        const n = base + (i < extra ? 1 : 0);
        if (n === 0) return;
        const set = new Set<number>();
        for (let p = next; p < next + n; p++) set.add(p);
        out.get(m.memberId)!.set(topic.id, set);
        next += n;
      });
    }
    return out;
  },
};
