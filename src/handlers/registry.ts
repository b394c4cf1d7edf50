/**
 * Every served API, indexed by API key. ApiVersions answers from this table, so adding a handler
 * here is what makes the broker advertise it.
 */
import type { ApiHandler } from "./handler.ts";
import { produceHandler } from "./00-produce.ts";
import { fetchHandler } from "./01-fetch.ts";
import { listOffsetsHandler } from "./02-list-offsets.ts";
import { metadataHandler } from "./03-metadata.ts";
import { offsetCommitHandler } from "./08-offset-commit.ts";
import { offsetFetchHandler } from "./09-offset-fetch.ts";
import { findCoordinatorHandler } from "./10-find-coordinator.ts";
import { joinGroupHandler } from "./11-join-group.ts";
import { heartbeatHandler } from "./12-heartbeat.ts";
import { leaveGroupHandler } from "./13-leave-group.ts";
import { syncGroupHandler } from "./14-sync-group.ts";
import { describeGroupsHandler } from "./15-describe-groups.ts";
import { listGroupsHandler } from "./16-list-groups.ts";
import { deleteGroupsHandler } from "./42-delete-groups.ts";
import { offsetDeleteHandler } from "./47-offset-delete.ts";
import { apiVersionsHandler } from "./18-api-versions.ts";
import { createTopicsHandler } from "./19-create-topics.ts";
import { deleteTopicsHandler } from "./20-delete-topics.ts";
import { deleteRecordsHandler } from "./21-delete-records.ts";
import { initProducerIdHandler } from "./22-init-producer-id.ts";
import { offsetForLeaderEpochHandler } from "./23-offset-for-leader-epoch.ts";
import { describeConfigsHandler } from "./32-describe-configs.ts";
import { alterConfigsHandler } from "./33-alter-configs.ts";
import { describeLogDirsHandler } from "./35-describe-log-dirs.ts";
import { createPartitionsHandler } from "./37-create-partitions.ts";
import { incrementalAlterConfigsHandler } from "./44-incremental-alter-configs.ts";
import { describeClusterHandler } from "./60-describe-cluster.ts";
import { describeProducersHandler } from "./61-describe-producers.ts";
import { consumerGroupHeartbeatHandler } from "./68-consumer-group-heartbeat.ts";
import { consumerGroupDescribeHandler } from "./69-consumer-group-describe.ts";
import { saslHandshakeHandler } from "./17-sasl-handshake.ts";
import { saslAuthenticateHandler } from "./36-sasl-authenticate.ts";
import { describeUserScramCredentialsHandler } from "./50-describe-user-scram-credentials.ts";
import { alterUserScramCredentialsHandler } from "./51-alter-user-scram-credentials.ts";
import { describeClientQuotasHandler } from "./48-describe-client-quotas.ts";
import { alterClientQuotasHandler } from "./49-alter-client-quotas.ts";
import { describeAclsHandler } from "./29-describe-acls.ts";
import { createAclsHandler } from "./30-create-acls.ts";
import { deleteAclsHandler } from "./31-delete-acls.ts";

// Built on first use, not at import: 18-api-versions imports this module back (a cycle that must
// not touch the handler bindings before every handler module has run).
const all = (): ApiHandler<any, any>[] => [
  produceHandler,
  fetchHandler,
  listOffsetsHandler,
  metadataHandler,
  offsetCommitHandler,
  offsetFetchHandler,
  findCoordinatorHandler,
  joinGroupHandler,
  heartbeatHandler,
  leaveGroupHandler,
  syncGroupHandler,
  describeGroupsHandler,
  listGroupsHandler,
  apiVersionsHandler,
  createTopicsHandler,
  deleteTopicsHandler,
  deleteRecordsHandler,
  initProducerIdHandler,
  offsetForLeaderEpochHandler,
  describeConfigsHandler,
  alterConfigsHandler,
  describeLogDirsHandler,
  createPartitionsHandler,
  incrementalAlterConfigsHandler,
  describeClusterHandler,
  describeProducersHandler,
  deleteGroupsHandler,
  offsetDeleteHandler,
  consumerGroupHeartbeatHandler,
  consumerGroupDescribeHandler,
  saslHandshakeHandler,
  saslAuthenticateHandler,
  describeUserScramCredentialsHandler,
  alterUserScramCredentialsHandler,
  describeClientQuotasHandler,
  alterClientQuotasHandler,
  describeAclsHandler,
  createAclsHandler,
  deleteAclsHandler,
];

let byKey: (ApiHandler<any, any> | undefined)[] | null = null;

export function handlerFor(apiKey: number): ApiHandler<any, any> | undefined {
  if (!byKey) {
    byKey = [];
    for (const h of all()) byKey[h.apiKey] = h;
  }
  return byKey[apiKey];
}

let ranges: { apiKey: number; minVersion: number; maxVersion: number }[] | null = null;

/** The (apiKey, min, max) triples ApiVersions advertises, in key order. */
export function apiVersionRanges(): { apiKey: number; minVersion: number; maxVersion: number }[] {
  ranges ??= all().map((h) => ({ apiKey: h.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion })).sort((a, b) => a.apiKey - b.apiKey);
  return ranges;
}
