/**
 * The one-line checks handlers call: `authorize(ctx, op, type, name)` is true when the connection's
 * principal may do `op` on the resource (always true without an authorizer), and helpers for the
 * cluster resource. Kafka's error codes for a denial are in AuthzError.
 */
import type { RequestContext } from "../handlers/handler.ts";
import { aclServiceFor } from "./acl-service.ts";
import { normalizeHost } from "./authorizer.ts";
import { CLUSTER_NAME, ResourceType } from "./types.ts";

export const AuthzError = {
  TOPIC_AUTHORIZATION_FAILED: 29,
  GROUP_AUTHORIZATION_FAILED: 30,
  CLUSTER_AUTHORIZATION_FAILED: 31,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 53,
  SECURITY_DISABLED: 54,
  INVALID_REQUEST: 42,
} as const;

const ANONYMOUS = "User:ANONYMOUS";

export function authorize(ctx: RequestContext, operation: number, resourceType: number, resourceName: string): boolean {
  const authorizer = aclServiceFor(ctx.broker).authorizer;
  if (authorizer === null) return true;
  return authorizer.authorize(ctx.conn.principal ?? ANONYMOUS, normalizeHost(ctx.conn.remoteAddress), operation, resourceType, resourceName);
}

export function authorizeCluster(ctx: RequestContext, operation: number): boolean {
  return authorize(ctx, operation, ResourceType.CLUSTER, CLUSTER_NAME);
}

export function authorizeTopic(ctx: RequestContext, operation: number, topic: string): boolean {
  return authorize(ctx, operation, ResourceType.TOPIC, topic);
}

export function authorizeGroup(ctx: RequestContext, operation: number, group: string): boolean {
  return authorize(ctx, operation, ResourceType.GROUP, group);
}

/** Whether an authorizer is configured (checks are on). */
export function authorizationEnabled(ctx: RequestContext): boolean {
  return aclServiceFor(ctx.broker).authorizer !== null;
}

/** The operations Kafka reports in authorized-operations bitfields, per resource type. */
const REPORTED_OPERATIONS: ReadonlyMap<number, readonly number[]> = new Map([
  [ResourceType.TOPIC, [3, 4, 5, 6, 7, 8, 10, 11]],
  [ResourceType.GROUP, [3, 6, 8]],
  [ResourceType.CLUSTER, [5, 7, 8, 9, 10, 11, 12]],
]);

/** Kafka's authorized-operations bitfield (bit n set: operation code n allowed); every reported op without an authorizer. */
export function authorizedOperations(ctx: RequestContext, resourceType: number, resourceName: string): number {
  let bits = 0;
  for (const op of REPORTED_OPERATIONS.get(resourceType) ?? []) if (authorize(ctx, op, resourceType, resourceName)) bits |= 1 << op;
  return bits;
}

/** DescribeConfigs / AlterConfigs resource types (ConfigResource.Type). */
const CONFIG_TOPIC = 2;
const CONFIG_BROKER = 4;
const CONFIG_BROKER_LOGGER = 8;
const CONFIG_CLIENT_METRICS = 16;
const CONFIG_GROUP = 32;

/**
 * Kafka's check for one config resource (`op` DESCRIBE_CONFIGS or ALTER_CONFIGS): a topic needs it on
 * the topic, a group on the group, broker / broker-logger / client-metrics resources on the cluster.
 * The denial as Kafka answers it per resource, or null when allowed (or of a type left to the handler).
 */
export function configResourceDenial(ctx: RequestContext, op: number, resourceType: number, resourceName: string): { errorCode: number; errorMessage: string } | null {
  switch (resourceType) {
    case CONFIG_TOPIC:
      return authorizeTopic(ctx, op, resourceName) ? null : { errorCode: AuthzError.TOPIC_AUTHORIZATION_FAILED, errorMessage: "Topic authorization failed." };
    case CONFIG_GROUP:
      return authorizeGroup(ctx, op, resourceName) ? null : { errorCode: AuthzError.GROUP_AUTHORIZATION_FAILED, errorMessage: "Group authorization failed." };
    case CONFIG_BROKER:
    case CONFIG_BROKER_LOGGER:
    case CONFIG_CLIENT_METRICS:
      return authorizeCluster(ctx, op) ? null : { errorCode: AuthzError.CLUSTER_AUTHORIZATION_FAILED, errorMessage: "Cluster authorization failed." };
    default:
      return null;
  }
}
