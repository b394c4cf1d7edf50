/**
 * FindCoordinator (key 10), v0-6. Kafka 4 removed v0, but librdkafka up to 2.x only enables its
 * group coordinator feature when the broker advertises v0 (its feature table wants FindCoordinator
 * 0..0), so v0 stays served, as Kafka did for Produce v0 (KAFKA-18659).
 * This broker coordinates every group, so a GROUP key (key_type 0) always names it; batched keys from v4. TRANSACTION keys (1) get
 * COORDINATOR_NOT_AVAILABLE (transactions are not served yet); other key types INVALID_REQUEST.
 */
import { readFindCoordinatorRequest } from "../protocol/generated/find-coordinator-request.ts";
import { writeFindCoordinatorResponse, type Coordinator, type FindCoordinatorResponse } from "../protocol/generated/find-coordinator-response.ts";
import { GroupError } from "../groups/errors.ts";
import type { Broker } from "../broker/broker.ts";
import { defineHandler } from "./handler.ts";
import { AuthzError, authorize } from "../acl/check.ts";
import { AclOperation, ResourceType } from "../acl/types.ts";
import type { RequestContext } from "./handler.ts";

const GROUP_KEY = 0;
const TRANSACTION_KEY = 1;

/** `endpoint` is the advertised address of the listener the client came through. */
function answer(ctx: RequestContext, broker: Broker, endpoint: { host: string; port: number }, key: string, keyType: number): Coordinator {
  const fail = (errorCode: number, errorMessage: string): Coordinator => ({ key, nodeId: -1, host: "", port: -1, errorCode, errorMessage });
  // Kafka: DESCRIBE on the group / transactional id, checked per key before anything else.
  if (keyType === GROUP_KEY && !authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, key)) return fail(AuthzError.GROUP_AUTHORIZATION_FAILED, "Group authorization failed.");
  if (keyType === TRANSACTION_KEY && !authorize(ctx, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, key)) {
    return fail(AuthzError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, "Transactional Id authorization failed.");
  }
  if (keyType === TRANSACTION_KEY) return fail(GroupError.COORDINATOR_NOT_AVAILABLE, "Transactions are not supported by this broker yet");
  if (keyType !== GROUP_KEY) return fail(GroupError.INVALID_REQUEST, `Unsupported key type ${keyType}`);
  if (key === "") return fail(GroupError.INVALID_REQUEST, "The group id must not be empty");
  return { key, nodeId: broker.nodeId, host: endpoint.host, port: endpoint.port, errorCode: GroupError.NONE, errorMessage: null };
}

export const findCoordinatorHandler = defineHandler({
  apiKey: 10,
  name: "FindCoordinator",
  minVersion: 0,
  maxVersion: 6,
  readRequest: readFindCoordinatorRequest,
  writeResponse: writeFindCoordinatorResponse,
  handle(ctx, req): FindCoordinatorResponse {
    const { broker, apiVersion, conn } = ctx;
    const keyType = req.keyType ?? GROUP_KEY;
    const endpoint = conn.listener?.advertised ?? broker.advertised;
    if (apiVersion >= 4) {
      return { throttleTimeMs: 0, coordinators: (req.coordinatorKeys ?? []).map((k) => answer(ctx, broker, endpoint, k, keyType)) };
    }
    const c = answer(ctx, broker, endpoint, req.key ?? "", keyType);
    return { throttleTimeMs: 0, errorCode: c.errorCode, errorMessage: c.errorMessage, nodeId: c.nodeId, host: c.host, port: c.port };
  },
});
