/**
 * DescribeUserScramCredentials (key 50), v0: which SCRAM mechanisms (and iteration counts) each
 * user has; never the salt or keys. A null user list describes every user; a named user without
 * credentials gets RESOURCE_NOT_FOUND, a user named twice DUPLICATE_RESOURCE (Kafka's messages).
 * Any authenticated principal may call it until ACLs land (Kafka without an authorizer allows it too).
 */
import { readDescribeUserScramCredentialsRequest } from "../protocol/generated/describe-user-scram-credentials-request.ts";
import {
  writeDescribeUserScramCredentialsResponse,
  type DescribeUserScramCredentialsResponse,
} from "../protocol/generated/describe-user-scram-credentials-response.ts";
import { authServiceFor } from "../auth/auth-service.ts";
import type { CredentialStore } from "../auth/credential-store.ts";
import { AuthError } from "../auth/errors.ts";
import { SCRAM_PARAMS } from "../auth/mechanisms.ts";
import { defineHandler } from "./handler.ts";
import { AuthzError, authorizeCluster } from "../acl/check.ts";
import { AclOperation } from "../acl/types.ts";

type Result = DescribeUserScramCredentialsResponse["results"][number];

function describeUser(store: CredentialStore, user: string): Result {
  const mechs = store.mechanismsOf(user);
  if (mechs.length === 0) {
    return { user, errorCode: AuthError.RESOURCE_NOT_FOUND, errorMessage: `Attempt to describe a user credential that does not exist: ${user}`, credentialInfos: [] };
  }
  const credentialInfos = mechs.map((m) => ({ mechanism: SCRAM_PARAMS[m].id, iterations: store.get(user, m)!.iterations }));
  credentialInfos.sort((a, b) => a.mechanism - b.mechanism);
  return { user, errorCode: AuthError.NONE, errorMessage: null, credentialInfos };
}

export const describeUserScramCredentialsHandler = defineHandler({
  apiKey: 50,
  name: "DescribeUserScramCredentials",
  minVersion: 0,
  maxVersion: 0,
  readRequest: readDescribeUserScramCredentialsRequest,
  writeResponse: writeDescribeUserScramCredentialsResponse,
  handle(ctx, req): DescribeUserScramCredentialsResponse {
    const { broker } = ctx;
    if (!authorizeCluster(ctx, AclOperation.DESCRIBE)) {
      return { throttleTimeMs: 0, errorCode: AuthzError.CLUSTER_AUTHORIZATION_FAILED, errorMessage: "Cluster authorization failed.", results: [] };
    }
    const store = authServiceFor(broker).credentials;
    const base = { throttleTimeMs: 0, errorCode: AuthError.NONE, errorMessage: null };
    if (req.users === null || req.users.length === 0) {
      return { ...base, results: store.userNames().map((u) => describeUser(store, u)) };
    }
    const counts = new Map<string, number>();
    for (const u of req.users) counts.set(u.name, (counts.get(u.name) ?? 0) + 1);
    const results: Result[] = [];
    for (const [user, n] of counts) {
      if (n > 1) {
        results.push({
          user, errorCode: AuthError.DUPLICATE_RESOURCE, credentialInfos: [],
          errorMessage: `Cannot describe SCRAM credentials for the same user twice in a single request: ${user}`,
        });
      } else results.push(describeUser(store, user));
    }
    return { ...base, results };
  },
});
