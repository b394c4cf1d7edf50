/**
 * AlterUserScramCredentials (key 51), v0: upserts and deletes SCRAM credentials (see
 * src/auth/credential-changes.ts for the checks), then persists the credential file before
 * answering. Connections already authenticated stay authenticated (Kafka does the same).
 * Any authenticated principal may call it until ACLs land.
 */
import { readAlterUserScramCredentialsRequest } from "../protocol/generated/alter-user-scram-credentials-request.ts";
import {
  writeAlterUserScramCredentialsResponse,
  type AlterUserScramCredentialsResponse,
} from "../protocol/generated/alter-user-scram-credentials-response.ts";
import { authServiceFor } from "../auth/auth-service.ts";
import { applyCredentialChanges } from "../auth/credential-changes.ts";
import { AuthError } from "../auth/errors.ts";
import { defineHandler } from "./handler.ts";
import { AuthzError, authorizeCluster } from "../acl/check.ts";
import { AclOperation } from "../acl/types.ts";

export const alterUserScramCredentialsHandler = defineHandler({
  apiKey: 51,
  name: "AlterUserScramCredentials",
  minVersion: 0,
  maxVersion: 0,
  readRequest: readAlterUserScramCredentialsRequest,
  writeResponse: writeAlterUserScramCredentialsResponse,
  async handle(ctx, req): Promise<AlterUserScramCredentialsResponse> {
    const { broker } = ctx;
    if (!authorizeCluster(ctx, AclOperation.ALTER)) {
      const denied = (user: string) => ({ user, errorCode: AuthzError.CLUSTER_AUTHORIZATION_FAILED, errorMessage: "Cluster authorization failed." });
      return { throttleTimeMs: 0, results: [...req.deletions, ...req.upsertions].map((x) => denied(x.name)) };
    }
    const store = authServiceFor(broker).credentials;
    const results = applyCredentialChanges(store, req.deletions, req.upsertions);
    if (results.some((r) => r.errorCode === AuthError.NONE)) await store.save();
    return { throttleTimeMs: 0, results };
  },
});
