/**
 * Kafka's ACL vocabulary (org.apache.kafka.common.resource / .acl): the byte codes the protocol uses
 * for resource types, pattern types, operations and permission types, and the shape of one binding.
 */

export const ResourceType = {
  UNKNOWN: 0, ANY: 1, TOPIC: 2, GROUP: 3, CLUSTER: 4, TRANSACTIONAL_ID: 5, DELEGATION_TOKEN: 6, USER: 7,
} as const;

export const PatternType = { UNKNOWN: 0, ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const;

export const AclOperation = {
  UNKNOWN: 0, ANY: 1, ALL: 2, READ: 3, WRITE: 4, CREATE: 5, DELETE: 6, ALTER: 7, DESCRIBE: 8,
  CLUSTER_ACTION: 9, DESCRIBE_CONFIGS: 10, ALTER_CONFIGS: 11, IDEMPOTENT_WRITE: 12,
  CREATE_TOKENS: 13, DESCRIBE_TOKENS: 14, TWO_PHASE_COMMIT: 15,
} as const;

export const AclPermission = { UNKNOWN: 0, ANY: 1, DENY: 2, ALLOW: 3 } as const;

/** The one name a CLUSTER resource has. */
export const CLUSTER_NAME = "kafka-cluster";
/** Literal resource name / principal / host that matches everything. */
export const WILDCARD = "*";
export const WILDCARD_PRINCIPAL = "User:*";

/** One stored ACL: a resource pattern plus an access-control entry. */
export interface AclBinding {
  resourceType: number;
  resourceName: string;
  patternType: number;
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}

/** A filter of DescribeAcls / DeleteAcls: null strings and ANY codes match anything. */
export interface AclBindingFilter {
  resourceType: number;
  resourceName: string | null;
  patternType: number;
  principal: string | null;
  host: string | null;
  operation: number;
  permissionType: number;
}

const maxCode = (o: Record<string, number>): number => Math.max(...Object.values(o));
export const MAX_RESOURCE_TYPE = maxCode(ResourceType);
export const MAX_OPERATION = maxCode(AclOperation);

export function bindingKey(b: AclBinding): string {
  return `${b.resourceType}\u0000${b.patternType}\u0000${b.resourceName}\u0000${b.principal}\u0000${b.host}\u0000${b.operation}\u0000${b.permissionType}`;
}
