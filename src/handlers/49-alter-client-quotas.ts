/**
 * AlterClientQuotas (key 49), v0-1: sets or removes quota keys of user / client-id / ip entities
 * (checks in src/quota/alter.ts, each failing entry gets INVALID_REQUEST and the others still
 * apply). Valid changes are persisted to the quota file before the answer; validate_only checks
 * without applying. New limits take effect on the next request of each client. ALTER_CONFIGS on the
 * cluster is required: without it every entry answers CLUSTER_AUTHORIZATION_FAILED and nothing changes.
 */
import { readAlterClientQuotasRequest } from "../protocol/generated/alter-client-quotas-request.ts";
import { writeAlterClientQuotasResponse, type AlterClientQuotasResponse } from "../protocol/generated/alter-client-quotas-response.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { checkAlterRequest } from "../quota/alter.ts";
import { quotaManagerFor } from "../quota/registry.ts";
import { defineHandler } from "./handler.ts";
import { AuthzError, authorizeCluster } from "../acl/check.ts";
import { AclOperation } from "../acl/types.ts";

export const alterClientQuotasHandler = defineHandler({
  apiKey: 49,
  name: "AlterClientQuotas",
  minVersion: 0,
  maxVersion: 1,
  readRequest: readAlterClientQuotasRequest,
  writeResponse: writeAlterClientQuotasResponse,
  async handle(ctx, req): Promise<AlterClientQuotasResponse> {
    const { broker } = ctx;
    if (!authorizeCluster(ctx, AclOperation.ALTER_CONFIGS)) {
      return {
        throttleTimeMs: 0,
        entries: req.entries.map((e) => ({ errorCode: AuthzError.CLUSTER_AUTHORIZATION_FAILED, errorMessage: "Cluster authorization failed.", entity: e.entity })),
      };
    }
    const store = quotaManagerFor(broker).store;
    const checked = checkAlterRequest(req.entries);
    let changed = false;
    if (!req.validateOnly) {
      for (const c of checked) {
        if (!c.ok) continue;
        store.apply(c.entity, c.changes);
        changed = true;
      }
    }
    let storageError: string | null = null;
    if (changed) {
      try {
        await store.save();
      } catch (e) {
        storageError = `Could not persist client quotas: ${(e as Error).message}`;
      }
    }
    const entries = req.entries.map((entry, i) => {
      const c = checked[i]!;
      if (!c.ok) return { errorCode: c.errorCode, errorMessage: c.errorMessage, entity: entry.entity };
      if (storageError !== null) return { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, errorMessage: storageError, entity: entry.entity };
      return { errorCode: ErrorCode.NONE, errorMessage: null, entity: entry.entity };
    });
    return { throttleTimeMs: 0, entries };
  },
});
