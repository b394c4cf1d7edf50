/**
 * The "uniform" server assignor: every partition of a subscribed topic goes to one subscribed
 * member, member loads differ by at most one where subscriptions allow, and partitions stay with
 * their previous owner whenever balance permits (sticky). Kafka's UniformAssignor has two builders
 * (homogeneous and heterogeneous subscriptions); one greedy procedure covers both here:
 *
 * 1. keep each previous partition with its owner if the owner still subscribes to its topic;
 * 2. give every other partition to the least-loaded subscribed member (topics with the fewest
 *    subscribers first, since they have the fewest choices);
 * 3. move partitions from a member to a subscribed member with at least two fewer partitions until
 *    no such move exists. In the homogeneous case this ends with loads ⌊P/N⌋ or ⌈P/N⌉.
 */
import { addPartition, type TopicPartitions } from "../topic-partitions.ts";
import { sortedMembers, type AssignorMember, type ServerAssignor } from "./types.ts";

export const uniformAssignor: ServerAssignor = {
  name: "uniform",
  assign(input, topics) {
    const members = sortedMembers(input);
    const load = new Map<string, number>(members.map((m) => [m.memberId, 0]));
    const owner = new Map<string, string>(); // "topicId:partition" → member id
    const subscribers = new Map<string, AssignorMember[]>();
    for (const m of members) {
      for (const t of m.subscribedTopicIds) {
        if (!topics.has(t)) continue;
        let list = subscribers.get(t);
        if (!list) subscribers.set(t, (list = []));
        list.push(m);
      }
    }
    // 1. Stickiness: but never above the most a balanced assignment could give a member.
    const total = [...subscribers.keys()].reduce((n, t) => n + topics.get(t)!.partitions, 0);
    const ceiling = members.length === 0 ? 0 : Math.ceil(total / members.length);
    for (const m of members) {
      for (const [t, ps] of m.previous) {
        const topic = topics.get(t);
        if (!topic || !m.subscribedTopicIds.has(t)) continue;
        for (const p of [...ps].sort((a, b) => a - b)) {
          const key = `${t}:${p}`;
          if (p >= topic.partitions || owner.has(key)) continue;
          if (load.get(m.memberId)! >= ceiling && isHomogeneous(members)) continue;
          owner.set(key, m.memberId);
          load.set(m.memberId, load.get(m.memberId)! + 1);
        }
      }
    }
    // 2. Everything else to the least-loaded subscriber.
    const topicOrder = [...subscribers.keys()].sort((a, b) => subscribers.get(a)!.length - subscribers.get(b)!.length || compare(topics.get(a)!.name, topics.get(b)!.name));
    for (const t of topicOrder) {
      const subs = subscribers.get(t)!;
      for (let p = 0; p < topics.get(t)!.partitions; p++) {
        const key = `${t}:${p}`;
        if (owner.has(key)) continue;
        let best = subs[0]!;
        for (const m of subs) if (load.get(m.memberId)! < load.get(best.memberId)!) best = m;
        owner.set(key, best.memberId);
        load.set(best.memberId, load.get(best.memberId)! + 1);
      }
    }
    // 3. Balance.
    for (let moved = true; moved; ) {
      moved = false;
      for (const [key, from] of owner) {
        const t = key.slice(0, key.lastIndexOf(":"));
        let best: AssignorMember | null = null;
        for (const m of subscribers.get(t) ?? []) {
          if (best === null || load.get(m.memberId)! < load.get(best.memberId)!) best = m;
        }
        if (best === null || load.get(best.memberId)! >= load.get(from)! - 1) continue;
        owner.set(key, best.memberId);
        load.set(from, load.get(from)! - 1);
        load.set(best.memberId, load.get(best.memberId)! + 1);
        moved = true;
      }
    }
    const out = new Map<string, TopicPartitions>(members.map((m) => [m.memberId, new Map()]));
    for (const [key, memberId] of owner) {
      const i = key.lastIndexOf(":");
      addPartition(out.get(memberId)!, key.slice(0, i), Number(key.slice(i + 1)));
    }
    return out;
  },
};

function isHomogeneous(members: readonly AssignorMember[]): boolean {
  const first = members[0];
  if (!first) return true;
  return members.every((m) => m.subscribedTopicIds.size === first.subscribedTopicIds.size && [...m.subscribedTopicIds].every((t) => first.subscribedTopicIds.has(t)));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

