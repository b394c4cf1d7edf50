/**
 * Tenant translation of the group and producer-id APIs. Group ids and transactional ids are
 * prefixed like topic names, so the coordinator only ever sees internal names (src/groups is not
 * tenant-aware). ListGroups is filtered to the tenant's groups. Classic consumer subscriptions are
 * stored with internal names (the coordinator reads them); assignments are bytes only the tenant's
 * own clients read, so they keep client names.
 */
import type { FindCoordinatorRequest } from "../protocol/generated/find-coordinator-request.ts";
import type { FindCoordinatorResponse } from "../protocol/generated/find-coordinator-response.ts";
import type { JoinGroupRequest } from "../protocol/generated/join-group-request.ts";
import type { JoinGroupResponse } from "../protocol/generated/join-group-response.ts";
import type { SyncGroupRequest } from "../protocol/generated/sync-group-request.ts";
import type { HeartbeatRequest } from "../protocol/generated/heartbeat-request.ts";
import type { LeaveGroupRequest } from "../protocol/generated/leave-group-request.ts";
import type { OffsetCommitRequest } from "../protocol/generated/offset-commit-request.ts";
import type { OffsetCommitResponse } from "../protocol/generated/offset-commit-response.ts";
import type { OffsetFetchRequest } from "../protocol/generated/offset-fetch-request.ts";
import type { OffsetFetchResponse } from "../protocol/generated/offset-fetch-response.ts";
import type { OffsetDeleteRequest } from "../protocol/generated/offset-delete-request.ts";
import type { OffsetDeleteResponse } from "../protocol/generated/offset-delete-response.ts";
import type { DescribeGroupsRequest } from "../protocol/generated/describe-groups-request.ts";
import type { DescribeGroupsResponse } from "../protocol/generated/describe-groups-response.ts";
import type { ListGroupsResponse } from "../protocol/generated/list-groups-response.ts";
import type { DeleteGroupsRequest } from "../protocol/generated/delete-groups-request.ts";
import type { DeleteGroupsResponse } from "../protocol/generated/delete-groups-response.ts";
import type { ConsumerGroupHeartbeatRequest } from "../protocol/generated/consumer-group-heartbeat-request.ts";
import type { ConsumerGroupDescribeRequest } from "../protocol/generated/consumer-group-describe-request.ts";
import type { ConsumerGroupDescribeResponse } from "../protocol/generated/consumer-group-describe-response.ts";
import type { InitProducerIdRequest } from "../protocol/generated/init-producer-id-request.ts";
import { CONSUMER_PROTOCOL_TYPE, renameSubscriptionTopics } from "./consumer-subscription.ts";
import { TopicIdMask, type TenantNamespace } from "./namespace.ts";
import type { TenantContext } from "./tenant-context.ts";
import type { ResponseFix } from "./translator.ts";

export function findCoordinator({ ns }: TenantContext, req: FindCoordinatorRequest): ResponseFix {
  if (req.key !== undefined) req.key = ns.in(req.key);
  if (req.coordinatorKeys) req.coordinatorKeys = req.coordinatorKeys.map((k) => ns.in(k));
  return (res) => {
    const r = res as FindCoordinatorResponse;
    r.errorMessage = ns.text(r.errorMessage);
    for (const c of r.coordinators ?? []) {
      c.key = ns.out(c.key);
      c.errorMessage = ns.text(c.errorMessage);
    }
  };
}

/** SyncGroup, Heartbeat, LeaveGroup: only the group id is a name (assignments stay client bytes). */
export function groupIdOnly({ ns }: TenantContext, req: SyncGroupRequest | HeartbeatRequest | LeaveGroupRequest): null {
  req.groupId = ns.in(req.groupId);
  return null;
}

/** JoinGroup: the group id, and the topics of consumer subscriptions (see consumer-subscription.ts). */
export function joinGroup({ ns }: TenantContext, req: JoinGroupRequest): ResponseFix | null {
  req.groupId = ns.in(req.groupId);
  if (req.protocolType !== CONSUMER_PROTOCOL_TYPE) return null;
  const inName = (n: string) => ns.in(n);
  for (const p of req.protocols) p.metadata = renameSubscriptionTopics(p.metadata, inName);
  const outName = (n: string) => ns.out(n);
  return (res) => {
    for (const m of (res as JoinGroupResponse).members) m.metadata = renameSubscriptionTopics(m.metadata, outName);
  };
}

export function offsetCommit({ ns }: TenantContext, req: OffsetCommitRequest): ResponseFix {
  req.groupId = ns.in(req.groupId);
  for (const t of req.topics) t.name = ns.in(t.name);
  return (res) => {
    for (const t of (res as OffsetCommitResponse).topics) t.name = ns.out(t.name);
  };
}

export function offsetFetch({ ns }: TenantContext, req: OffsetFetchRequest): ResponseFix {
  if (req.groupId !== undefined) req.groupId = ns.in(req.groupId);
  for (const t of req.topics ?? []) t.name = ns.in(t.name);
  for (const g of req.groups ?? []) {
    g.groupId = ns.in(g.groupId);
    for (const t of g.topics ?? []) t.name = ns.in(t.name);
  }
  return (res) => {
    const r = res as OffsetFetchResponse;
    if (r.topics) r.topics = r.topics.filter((t) => ns.owns(t.name));
    for (const t of r.topics ?? []) t.name = ns.out(t.name);
    for (const g of r.groups ?? []) {
      g.groupId = ns.out(g.groupId);
      g.topics = g.topics.filter((t) => ns.owns(t.name));
      for (const t of g.topics) t.name = ns.out(t.name);
    }
  };
}

export function offsetDelete({ ns }: TenantContext, req: OffsetDeleteRequest): ResponseFix {
  req.groupId = ns.in(req.groupId);
  for (const t of req.topics) t.name = ns.in(t.name);
  return (res) => {
    for (const t of (res as OffsetDeleteResponse).topics) t.name = ns.out(t.name);
  };
}

export function describeGroups({ ns }: TenantContext, req: DescribeGroupsRequest): ResponseFix {
  req.groups = req.groups.map((g) => ns.in(g));
  const outName = (n: string) => ns.out(n);
  return (res) => {
    for (const g of (res as DescribeGroupsResponse).groups) {
      g.groupId = ns.out(g.groupId);
      if (g.protocolType !== CONSUMER_PROTOCOL_TYPE) continue;
      for (const m of g.members) m.memberMetadata = renameSubscriptionTopics(m.memberMetadata, outName);
    }
  };
}

export function listGroups({ ns }: TenantContext): ResponseFix {
  return (res) => {
    const r = res as ListGroupsResponse;
    r.groups = r.groups.filter((g) => ns.owns(g.groupId));
    for (const g of r.groups) g.groupId = ns.out(g.groupId);
  };
}

export function deleteGroups({ ns }: TenantContext, req: DeleteGroupsRequest): ResponseFix {
  req.groupsNames = req.groupsNames.map((g) => ns.in(g));
  return (res) => {
    for (const g of (res as DeleteGroupsResponse).results) g.groupId = ns.out(g.groupId);
  };
}

/** A KIP-848 regex subscription: a whole-name match, so the tenant's pattern is anchored after its prefix. */
function regexIn(ns: TenantNamespace, re: string): string {
  return `${escapeRegex(ns.prefix)}(?:${re})`;
}

function regexOut(ns: TenantNamespace, re: string | null): string | null {
  if (re === null) return null;
  const head = `${escapeRegex(ns.prefix)}(?:`;
  return re.startsWith(head) && re.endsWith(")") ? re.slice(head.length, -1) : re;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&");
}

export function consumerGroupHeartbeat({ ns }: TenantContext, req: ConsumerGroupHeartbeatRequest): null {
  req.groupId = ns.in(req.groupId);
  if (req.subscribedTopicNames) req.subscribedTopicNames = req.subscribedTopicNames.map((n) => ns.in(n));
  if (req.subscribedTopicRegex) req.subscribedTopicRegex = regexIn(ns, req.subscribedTopicRegex);
  // Owned partitions name topics by id: another tenant's ids become unknown ones. The answer's
  // assignment only holds ids of topics the (prefixed) subscription matched, so it needs nothing.
  if (req.topicPartitions) {
    const ids = new TopicIdMask(ns);
    for (const tp of req.topicPartitions) tp.topicId = ids.in(tp.topicId) ?? tp.topicId;
  }
  return null;
}

export function consumerGroupDescribe({ ns }: TenantContext, req: ConsumerGroupDescribeRequest): ResponseFix {
  req.groupIds = req.groupIds.map((g) => ns.in(g));
  return (res) => {
    for (const g of (res as ConsumerGroupDescribeResponse).groups) {
      g.groupId = ns.out(g.groupId);
      g.errorMessage = ns.text(g.errorMessage);
      for (const m of g.members) {
        m.subscribedTopicNames = m.subscribedTopicNames.map((n) => ns.out(n));
        m.subscribedTopicRegex = regexOut(ns, m.subscribedTopicRegex);
        for (const a of [m.assignment, m.targetAssignment]) for (const tp of a.topicPartitions) tp.topicName = ns.out(tp.topicName);
      }
    }
  };
}

export function initProducerId({ ns }: TenantContext, req: InitProducerIdRequest): null {
  if (req.transactionalId) req.transactionalId = ns.in(req.transactionalId);
  return null;
}
