/**
 * Classic-protocol helpers: which protocol (assignor) a group runs, chosen the way Kafka chooses
 * it, and the topics a consumer-protocol member subscribes to (for OffsetDelete's
 * GROUP_SUBSCRIBED_TO_TOPIC).
 */
import { readConsumerProtocolSubscription } from "../protocol/generated/consumer-protocol-subscription.ts";
import { Reader } from "../protocol/reader.ts";

export interface Protocol {
  name: string;
  metadata: Uint8Array;
}

/** Protocol names every member supports (each member's list in its order of preference). */
export function commonProtocols(memberProtocols: readonly (readonly Protocol[])[]): Set<string> {
  if (memberProtocols.length === 0) return new Set();
  const common = new Set(memberProtocols[0]!.map((p) => p.name));
  for (let i = 1; i < memberProtocols.length; i++) {
    const names = new Set(memberProtocols[i]!.map((p) => p.name));
    for (const n of common) if (!names.has(n)) common.delete(n);
  }
  return common;
}

/**
 * Kafka's rule: among the protocols all members support, each member votes for the first one in
 * its own preference order; the most votes wins. Ties go to the protocol the earliest member
 * (in `members` order) prefers, so the answer is deterministic. null when there is no common one.
 */
export function selectProtocol(memberProtocols: readonly (readonly Protocol[])[]): string | null {
  const candidates = commonProtocols(memberProtocols);
  if (candidates.size === 0) return null;
  const votes = new Map<string, number>();
  const order: string[] = [];
  for (const protocols of memberProtocols) {
    const choice = protocols.find((p) => candidates.has(p.name))!.name;
    if (!votes.has(choice)) order.push(choice);
    votes.set(choice, (votes.get(choice) ?? 0) + 1);
  }
  let best = order[0]!;
  for (const name of order) if (votes.get(name)! > votes.get(best)!) best = name;
  return best;
}

/** Topics in a ConsumerProtocolSubscription (any version); null when it does not parse. */
export function subscribedTopics(metadata: Uint8Array): string[] | null {
  if (metadata.length < 2) return null;
  const version = Math.min((metadata[0]! << 8) | metadata[1]!, 3);
  const r = new Reader(metadata, 2);
  const sub = readConsumerProtocolSubscription(r, version);
  return r.error ? null : sub.topics;
}
