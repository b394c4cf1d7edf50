/**
 * Tenant translation of the data-path APIs that name topics: Produce, Fetch, ListOffsets,
 * DeleteRecords, OffsetForLeaderEpoch, DescribeProducers. Each prefixes the names a client sent and
 * strips them again in the answer; the answer only ever holds topics the request named, so nothing
 * needs filtering, except Fetch by topic id (foreign ids are masked, see TopicIdMask).
 */
import type { ProduceRequest } from "../protocol/generated/produce-request.ts";
import type { ProduceResponse } from "../protocol/generated/produce-response.ts";
import type { FetchRequest } from "../protocol/generated/fetch-request.ts";
import type { FetchResponse } from "../protocol/generated/fetch-response.ts";
import type { ListOffsetsRequest } from "../protocol/generated/list-offsets-request.ts";
import type { ListOffsetsResponse } from "../protocol/generated/list-offsets-response.ts";
import type { DeleteRecordsRequest } from "../protocol/generated/delete-records-request.ts";
import type { DeleteRecordsResponse } from "../protocol/generated/delete-records-response.ts";
import type { OffsetForLeaderEpochRequest } from "../protocol/generated/offset-for-leader-epoch-request.ts";
import type { OffsetForLeaderEpochResponse } from "../protocol/generated/offset-for-leader-epoch-response.ts";
import type { DescribeProducersRequest } from "../protocol/generated/describe-producers-request.ts";
import type { DescribeProducersResponse } from "../protocol/generated/describe-producers-response.ts";
import { TopicIdMask } from "./namespace.ts";
import type { TenantContext } from "./tenant-context.ts";
import type { ResponseFix } from "./translator.ts";

export function produce({ ns }: TenantContext, req: ProduceRequest): ResponseFix {
  if (req.transactionalId) req.transactionalId = ns.in(req.transactionalId);
  for (const t of req.topicData) t.name = ns.in(t.name);
  return (res) => {
    for (const t of (res as ProduceResponse).responses) {
      t.name = ns.out(t.name);
      for (const p of t.partitionResponses) if (p.errorMessage) p.errorMessage = ns.text(p.errorMessage);
    }
  };
}

export function fetch({ ns }: TenantContext, req: FetchRequest): ResponseFix {
  const ids = new TopicIdMask(ns);
  for (const t of req.topics) {
    if (t.topic !== undefined && t.topic !== "") t.topic = ns.in(t.topic);
    t.topicId = ids.in(t.topicId);
  }
  for (const t of req.forgottenTopicsData ?? []) {
    if (t.topic !== undefined && t.topic !== "") t.topic = ns.in(t.topic);
    t.topicId = ids.in(t.topicId);
  }
  return (res) => {
    const r = res as FetchResponse;
    // An incremental fetch session answers for the topics it holds; a session id is not bound to a
    // principal (as in Kafka), so topics outside the namespace are dropped should one ever appear.
    r.responses = r.responses.filter((t) => (t.topic !== undefined && t.topic !== "" ? ns.owns(t.topic) : !ns.foreignTopicId(t.topicId ?? "")));
    for (const t of r.responses) {
      if (t.topic !== undefined && t.topic !== "") t.topic = ns.out(t.topic);
      if (!ids.empty) t.topicId = ids.out(t.topicId);
    }
  };
}

export function listOffsets({ ns }: TenantContext, req: ListOffsetsRequest): ResponseFix {
  for (const t of req.topics) t.name = ns.in(t.name);
  return (res) => {
    for (const t of (res as ListOffsetsResponse).topics) t.name = ns.out(t.name);
  };
}

export function deleteRecords({ ns }: TenantContext, req: DeleteRecordsRequest): ResponseFix {
  for (const t of req.topics) t.name = ns.in(t.name);
  return (res) => {
    for (const t of (res as DeleteRecordsResponse).topics) t.name = ns.out(t.name);
  };
}

export function offsetForLeaderEpoch({ ns }: TenantContext, req: OffsetForLeaderEpochRequest): ResponseFix {
  for (const t of req.topics) t.topic = ns.in(t.topic);
  return (res) => {
    for (const t of (res as OffsetForLeaderEpochResponse).topics) t.topic = ns.out(t.topic);
  };
}

export function describeProducers({ ns }: TenantContext, req: DescribeProducersRequest): ResponseFix {
  for (const t of req.topics) t.name = ns.in(t.name);
  return (res) => {
    for (const t of (res as DescribeProducersResponse).topics) {
      t.name = ns.out(t.name);
      for (const p of t.partitions) p.errorMessage = ns.text(p.errorMessage);
    }
  };
}
