/**
 * Topic names inside a classic consumer group's member metadata (ConsumerProtocolSubscription, the
 * bytes of JoinGroup protocols with protocol type "consumer"). The coordinator reads them to know
 * which topics a group is subscribed to (OffsetDelete's GROUP_SUBSCRIBED_TO_TOPIC, and keeping the
 * offsets of subscribed topics past offsets.retention), so a tenant's subscription is stored with
 * internal names and shown to clients (the group leader, DescribeGroups) with client names.
 * Bytes that do not parse, or of a version newer than we know, pass unchanged.
 */
import { readConsumerProtocolSubscription, writeConsumerProtocolSubscription, CONSUMER_PROTOCOL_SUBSCRIPTION } from "../protocol/generated/consumer-protocol-subscription.ts";
import { Reader } from "../protocol/reader.ts";
import { Writer } from "../protocol/writer.ts";

export const CONSUMER_PROTOCOL_TYPE = "consumer";

/** Rewrites every topic name in the subscription with `rename`. */
export function renameSubscriptionTopics(metadata: Uint8Array, rename: (topic: string) => string): Uint8Array {
  if (metadata.length < 2) return metadata;
  const version = (metadata[0]! << 8) | metadata[1]!;
  if (version > CONSUMER_PROTOCOL_SUBSCRIPTION.maxVersion) return metadata;
  const r = new Reader(metadata, 2);
  const sub = readConsumerProtocolSubscription(r, version);
  if (r.error || r.remaining !== 0) return metadata;
  sub.topics = sub.topics.map(rename);
  for (const p of sub.ownedPartitions ?? []) p.topic = rename(p.topic);
  const w = new Writer(metadata.length + 64);
  w.int16(version);
  writeConsumerProtocolSubscription(w, version, sub);
  return w.toBytes();
}
