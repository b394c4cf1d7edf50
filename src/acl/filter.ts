/**
 * Matching of DescribeAcls / DeleteAcls filters against stored bindings, as Kafka's
 * ResourcePatternFilter and AccessControlEntryFilter do: a LITERAL/PREFIXED filter matches the same
 * pattern type and name exactly, ANY matches every pattern type with that exact name, MATCH matches
 * every binding that would apply to the named resource (the literal name, the literal wildcard, and
 * prefixes of it).
 */
import { AclOperation, AclPermission, PatternType, ResourceType, WILDCARD, type AclBinding, type AclBindingFilter } from "./types.ts";

export function filterMatches(f: AclBindingFilter, b: AclBinding): boolean {
  if (f.resourceType !== ResourceType.ANY && f.resourceType !== b.resourceType) return false;
  if (!patternMatches(f, b)) return false;
  if (f.principal !== null && f.principal !== b.principal) return false;
  if (f.host !== null && f.host !== b.host) return false;
  if (f.operation !== AclOperation.ANY && f.operation !== b.operation) return false;
  if (f.permissionType !== AclPermission.ANY && f.permissionType !== b.permissionType) return false;
  return true;
}

function patternMatches(f: AclBindingFilter, b: AclBinding): boolean {
  if (f.patternType !== PatternType.ANY && f.patternType !== PatternType.MATCH && f.patternType !== b.patternType) return false;
  if (f.resourceName === null) return true;
  if (f.patternType !== PatternType.MATCH) return f.resourceName === b.resourceName;
  if (b.patternType === PatternType.LITERAL) return b.resourceName === f.resourceName || b.resourceName === WILDCARD;
  if (b.patternType === PatternType.PREFIXED) return f.resourceName.startsWith(b.resourceName);
  return false;
}
