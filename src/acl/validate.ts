/**
 * Checks of CreateAcls bindings and DeleteAcls/DescribeAcls filters, with Kafka's rules: concrete
 * codes only in a binding (no ANY/MATCH/UNKNOWN), `Type:name` principals, CLUSTER named
 * `kafka-cluster`, a non-empty resource name. A returned string is the INVALID_REQUEST message.
 */
import {
  AclOperation, AclPermission, CLUSTER_NAME, MAX_OPERATION, MAX_RESOURCE_TYPE, PatternType, ResourceType,
  type AclBinding, type AclBindingFilter,
} from "./types.ts";

export function validateBinding(b: AclBinding): string | null {
  if (b.resourceType <= ResourceType.ANY || b.resourceType > MAX_RESOURCE_TYPE) return `Invalid resource type ${b.resourceType}`;
  if (b.patternType !== PatternType.LITERAL && b.patternType !== PatternType.PREFIXED) return `Invalid pattern type ${b.patternType}; only LITERAL and PREFIXED ACLs can be created`;
  if (b.operation <= AclOperation.ANY || b.operation > MAX_OPERATION) return `Invalid operation ${b.operation}`;
  if (b.permissionType !== AclPermission.ALLOW && b.permissionType !== AclPermission.DENY) return `Invalid permission type ${b.permissionType}`;
  if (b.resourceName === "") return "Resource name must not be empty";
  if (b.resourceType === ResourceType.CLUSTER && b.resourceName !== CLUSTER_NAME) return `The only valid name for the CLUSTER resource is ${CLUSTER_NAME}`;
  if (b.patternType === PatternType.PREFIXED && b.resourceName === "*") return "A PREFIXED pattern cannot use the wildcard name";
  const colon = b.principal.indexOf(":");
  if (colon <= 0) return `Could not parse principal from \`${b.principal}\` (no colon is present separating the principal type from the principal name)`;
  if (b.host === "") return "Host must not be empty (use * for any host)";
  return null;
}

export function validateFilter(f: AclBindingFilter): string | null {
  if (f.resourceType === ResourceType.UNKNOWN || f.resourceType > MAX_RESOURCE_TYPE || f.resourceType < 0) return `Invalid resource type filter ${f.resourceType}`;
  if (f.patternType === PatternType.UNKNOWN || f.patternType > PatternType.PREFIXED || f.patternType < 0) return `Invalid pattern type filter ${f.patternType}`;
  if (f.operation === AclOperation.UNKNOWN || f.operation > MAX_OPERATION || f.operation < 0) return `Invalid operation filter ${f.operation}`;
  if (f.permissionType === AclPermission.UNKNOWN || f.permissionType > AclPermission.ALLOW || f.permissionType < 0) return `Invalid permission type filter ${f.permissionType}`;
  return null;
}
