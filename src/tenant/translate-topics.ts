/**
 * Tenant translation of the topic admin APIs: Metadata, CreateTopics, DeleteTopics,
 * CreatePartitions, DescribeConfigs, AlterConfigs, IncrementalAlterConfigs, DescribeLogDirs.
 * Listings (Metadata and DescribeLogDirs without topics) are filtered to the tenant's own topics;
 * topic ids of other tenants are masked; CreateTopics / CreatePartitions / auto-creation go through
 * the tenant's partition limits first (partition-limits.ts).
 */
import type { MetadataRequest } from "../protocol/generated/metadata-request.ts";
import type { MetadataResponse } from "../protocol/generated/metadata-response.ts";
import type { CreateTopicsRequest } from "../protocol/generated/create-topics-request.ts";
import type { CreateTopicsResponse } from "../protocol/generated/create-topics-response.ts";
import type { DeleteTopicsRequest } from "../protocol/generated/delete-topics-request.ts";
import type { DeleteTopicsResponse } from "../protocol/generated/delete-topics-response.ts";
import type { CreatePartitionsRequest } from "../protocol/generated/create-partitions-request.ts";
import type { CreatePartitionsResponse } from "../protocol/generated/create-partitions-response.ts";
import type { DescribeConfigsRequest } from "../protocol/generated/describe-configs-request.ts";
import type { DescribeConfigsResponse } from "../protocol/generated/describe-configs-response.ts";
import type { AlterConfigsRequest } from "../protocol/generated/alter-configs-request.ts";
import type { AlterConfigsResponse } from "../protocol/generated/alter-configs-response.ts";
import type { IncrementalAlterConfigsRequest } from "../protocol/generated/incremental-alter-configs-request.ts";
import type { DescribeLogDirsRequest } from "../protocol/generated/describe-log-dirs-request.ts";
import type { DescribeLogDirsResponse } from "../protocol/generated/describe-log-dirs-response.ts";
import type { RequestContext } from "../handlers/handler.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { ZERO_UUID } from "../protocol/reader.ts";
import { topicNameError } from "../broker/topic-names.ts";
import { TopicIdMask, type TenantNamespace } from "./namespace.ts";
import { checkPartitionCreation, recordPartitionCreation, type Refusal } from "./partition-limits.ts";
import type { TenantContext } from "./tenant-context.ts";
import type { ResponseFix } from "./translator.ts";

const TOPIC_RESOURCE = 2;
/** KIP-599: CreateTopics v6+ and CreatePartitions v3+ can carry THROTTLING_QUOTA_EXCEEDED. */
const CREATE_TOPICS_THROTTLE_ERROR_VERSION = 6;
const CREATE_PARTITIONS_THROTTLE_ERROR_VERSION = 3;

/** A client topic name that may be created: Kafka's rules, with the prefix counted in the length. */
function visibleNameError(ns: TenantNamespace, name: string): string | null {
  const err = topicNameError(name);
  if (err) return err;
  if (name.length > ns.maxTopicNameLength) return `Topic name is illegal, it can't be longer than ${ns.maxTopicNameLength} characters, topic name: ${name}`;
  return null;
}

export function metadata(t: TenantContext, req: MetadataRequest): ResponseFix {
  const { ns } = t;
  const ids = new TopicIdMask(ns);
  const listing = req.topics === null;
  let autoCreatable = 0;
  for (const topic of req.topics ?? []) {
    topic.topicId = ids.in(topic.topicId);
    if (topic.name === null) continue;
    // An invalid client name stays as sent, so the handler refuses it as Kafka would.
    if (visibleNameError(ns, topic.name) !== null) continue;
    topic.name = ns.in(topic.name);
    if (!t.ns.topicExists(topic.name)) autoCreatable++;
  }
  if (autoCreatable > 0 && req.allowAutoTopicCreation !== false && t.autoCreateTopics) {
    // Auto-creation counts against the partition limits; over them the topics are just not created.
    const now = Date.now();
    const wanted = autoCreatable * t.defaultPartitions;
    if (checkPartitionCreation(t, wanted, 0, now) !== null) req.allowAutoTopicCreation = false;
    else recordPartitionCreation(t, wanted, now);
  }
  return (res) => {
    const r = res as MetadataResponse;
    if (listing) r.topics = r.topics.filter((topic) => ns.owns(topic.name));
    for (const topic of r.topics) {
      if (topic.name) topic.name = ns.out(topic.name);
      if (!ids.empty && topic.topicId !== undefined) topic.topicId = ids.out(topic.topicId);
    }
  };
}

export function createTopics(t: TenantContext, req: CreateTopicsRequest, version: number, ctx: RequestContext): ResponseFix {
  const { ns } = t;
  const refused: CreateTopicsResponse["topics"] = [];
  const kept: CreateTopicsRequest["topics"] = [];
  const now = Date.now();
  let granted = 0;
  let throttleMs = 0;
  const refuse = (name: string, errorCode: number, errorMessage: string) =>
    refused.push({ name, topicId: ZERO_UUID, errorCode, errorMessage, numPartitions: -1, replicationFactor: -1, configs: null });
  for (const topic of req.topics) {
    const invalid = visibleNameError(ns, topic.name);
    if (invalid) {
      refuse(topic.name, ErrorCode.INVALID_TOPIC_EXCEPTION, invalid);
      continue;
    }
    const internal = ns.in(topic.name);
    const partitions = topic.assignments.length > 0 ? topic.assignments.length : topic.numPartitions === -1 ? t.defaultPartitions : topic.numPartitions;
    if (partitions > 0 && !ns.topicExists(internal)) {
      const no = refusalFor(checkPartitionCreation(t, partitions, granted, now), version >= CREATE_TOPICS_THROTTLE_ERROR_VERSION);
      if (no) {
        throttleMs = Math.max(throttleMs, no.throttleMs);
        refuse(topic.name, no.errorCode, no.message);
        continue;
      }
      granted += partitions;
    }
    topic.name = internal;
    kept.push(topic);
  }
  req.topics = kept;
  if (!req.validateOnly) recordPartitionCreation(t, granted, now);
  if (version < CREATE_TOPICS_THROTTLE_ERROR_VERSION) throttleOldClient(t, ctx, now);
  return (res) => {
    const r = res as CreateTopicsResponse;
    for (const topic of r.topics) {
      topic.name = ns.out(topic.name);
      topic.errorMessage = ns.text(topic.errorMessage);
    }
    r.topics.push(...refused);
    if (throttleMs > 0 && r.throttleTimeMs !== undefined) r.throttleTimeMs = Math.max(r.throttleTimeMs, throttleMs);
  };
}

export function createPartitions(t: TenantContext, req: CreatePartitionsRequest, version: number, ctx: RequestContext): ResponseFix {
  const { ns } = t;
  const refused: CreatePartitionsResponse["results"] = [];
  const kept: CreatePartitionsRequest["topics"] = [];
  const now = Date.now();
  let granted = 0;
  let throttleMs = 0;
  for (const topic of req.topics) {
    const internal = ns.in(topic.name);
    const current = ns.partitionsOf(internal);
    if (current !== null && topic.count > current) {
      const no = refusalFor(checkPartitionCreation(t, topic.count - current, granted, now), version >= CREATE_PARTITIONS_THROTTLE_ERROR_VERSION);
      if (no) {
        throttleMs = Math.max(throttleMs, no.throttleMs);
        refused.push({ name: topic.name, errorCode: no.errorCode, errorMessage: no.message });
        continue;
      }
      granted += topic.count - current;
    }
    topic.name = internal;
    kept.push(topic);
  }
  req.topics = kept;
  if (!req.validateOnly) recordPartitionCreation(t, granted, now);
  if (version < CREATE_PARTITIONS_THROTTLE_ERROR_VERSION) throttleOldClient(t, ctx, now);
  return (res) => {
    const r = res as CreatePartitionsResponse;
    for (const topic of r.results) {
      topic.name = ns.out(topic.name);
      topic.errorMessage = ns.text(topic.errorMessage);
    }
    r.results.push(...refused);
    r.throttleTimeMs = Math.max(r.throttleTimeMs, throttleMs);
  };
}

/**
 * Clients too old for THROTTLING_QUOTA_EXCEEDED are never refused for the rate (KIP-599): their
 * request goes through and they are muted for the throttle time instead.
 */
function refusalFor(refusal: Refusal | null, canSayThrottled: boolean): Refusal | null {
  if (refusal === null) return null;
  if (refusal.errorCode === ErrorCode.THROTTLING_QUOTA_EXCEEDED && !canSayThrottled) return null;
  return refusal;
}

function throttleOldClient(t: TenantContext, ctx: RequestContext, now: number): void {
  const rate = t.mutationRate;
  const limit = t.limits.mutationsPerSec;
  if (rate.rate(now) <= limit || limit <= 0) return;
  ctx.conn.throttle?.(Math.round(((rate.rate(now) - limit) / limit) * rate.spanMs(now)));
}

export function deleteTopics({ ns }: TenantContext, req: DeleteTopicsRequest): ResponseFix {
  const ids = new TopicIdMask(ns);
  for (const topic of req.topics ?? []) {
    if (topic.name !== null) topic.name = ns.in(topic.name);
    topic.topicId = ids.in(topic.topicId) ?? topic.topicId;
  }
  if (req.topicNames) req.topicNames = req.topicNames.map((n) => ns.in(n));
  return (res) => {
    for (const topic of (res as DeleteTopicsResponse).responses) {
      topic.name = ns.outNullable(topic.name);
      topic.errorMessage = ns.text(topic.errorMessage);
      if (!ids.empty && topic.topicId !== undefined) topic.topicId = ids.out(topic.topicId);
    }
  };
}

/** Topic resources are translated; broker resources pass (they hold no tenant data). */
export function describeConfigs({ ns }: TenantContext, req: DescribeConfigsRequest): ResponseFix {
  for (const r of req.resources) if (r.resourceType === TOPIC_RESOURCE) r.resourceName = ns.in(r.resourceName);
  return (res) => {
    for (const r of (res as DescribeConfigsResponse).results) {
      if (r.resourceType === TOPIC_RESOURCE) r.resourceName = ns.out(r.resourceName);
      r.errorMessage = ns.text(r.errorMessage);
    }
  };
}

export function alterConfigs({ ns }: TenantContext, req: AlterConfigsRequest | IncrementalAlterConfigsRequest): ResponseFix {
  for (const r of req.resources) if (r.resourceType === TOPIC_RESOURCE) r.resourceName = ns.in(r.resourceName);
  return (res) => {
    for (const r of (res as AlterConfigsResponse).responses) {
      if (r.resourceType === TOPIC_RESOURCE) r.resourceName = ns.out(r.resourceName);
      r.errorMessage = ns.text(r.errorMessage);
    }
  };
}

export function describeLogDirs({ ns }: TenantContext, req: DescribeLogDirsRequest): ResponseFix {
  for (const topic of req.topics ?? []) topic.topic = ns.in(topic.topic);
  return (res) => {
    for (const dir of (res as DescribeLogDirsResponse).results) {
      dir.topics = dir.topics.filter((topic) => ns.owns(topic.name));
      for (const topic of dir.topics) topic.name = ns.out(topic.name);
    }
  };
}
