/**
 * Tenant view of the SCRAM credential APIs: users are broker-wide, so a tenant may describe and
 * change only its own members' credentials. Other users look as if they did not exist (Kafka's
 * RESOURCE_NOT_FOUND text), so a tenant cannot probe other tenants' user names. New users are not
 * created over the wire by a tenant: membership is set with `bun run users -- add --tenant`.
 */
import type { DescribeUserScramCredentialsRequest } from "../protocol/generated/describe-user-scram-credentials-request.ts";
import type { DescribeUserScramCredentialsResponse } from "../protocol/generated/describe-user-scram-credentials-response.ts";
import type { AlterUserScramCredentialsRequest } from "../protocol/generated/alter-user-scram-credentials-request.ts";
import type { AlterUserScramCredentialsResponse } from "../protocol/generated/alter-user-scram-credentials-response.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import type { TenantContext } from "./tenant-context.ts";
import type { ResponseFix } from "./translator.ts";

const notFound = (user: string) => `Attempt to describe a user credential that does not exist: ${user}`;

export function describeScram(t: TenantContext, req: DescribeUserScramCredentialsRequest): ResponseFix {
  const listing = req.users === null;
  return (res) => {
    const r = res as DescribeUserScramCredentialsResponse;
    if (listing) r.results = r.results.filter((u) => t.isMember(u.user));
    for (const u of r.results) {
      if (t.isMember(u.user)) continue;
      u.errorCode = ErrorCode.RESOURCE_NOT_FOUND;
      u.errorMessage = notFound(u.user);
      u.credentialInfos = [];
    }
  };
}

export function alterScram(t: TenantContext, req: AlterUserScramCredentialsRequest): ResponseFix {
  const refused = new Set<string>();
  for (const d of req.deletions) if (!t.isMember(d.name)) refused.add(d.name);
  for (const u of req.upsertions) if (!t.isMember(u.name)) refused.add(u.name);
  req.deletions = req.deletions.filter((d) => !refused.has(d.name));
  req.upsertions = req.upsertions.filter((u) => !refused.has(u.name));
  return (res) => {
    const r = res as AlterUserScramCredentialsResponse;
    for (const user of refused) {
      r.results.push({
        user, errorCode: ErrorCode.RESOURCE_NOT_FOUND,
        errorMessage: `${user} is not a user of tenant ${t.tenant.name}; tenant users are added with bun run users -- add --tenant`,
      });
    }
  };
}
