/**
 * The one place names are translated: dispatch calls `translateRequest` for a request of a tenant's
 * connection before the handler runs and applies the returned fix to the handler's response.
 * APIs that name nothing of a tenant's (ApiVersions, SASL, DescribeCluster) pass unchanged.
 */
import type { RequestContext } from "../handlers/handler.ts";
import * as acls from "./translate-acls.ts";
import * as data from "./translate-data.ts";
import * as groups from "./translate-groups.ts";
import * as quotas from "./translate-quotas.ts";
import * as scram from "./translate-scram.ts";
import * as topics from "./translate-topics.ts";
import type { TenantContext } from "./tenant-context.ts";
import type { ResponseFix, Translator } from "./translator.ts";

const TRANSLATORS: ReadonlyMap<number, Translator> = new Map<number, Translator>([
  [0, data.produce],
  [1, data.fetch],
  [2, data.listOffsets],
  [3, topics.metadata],
  [8, groups.offsetCommit],
  [9, groups.offsetFetch],
  [10, groups.findCoordinator],
  [11, groups.joinGroup],
  [12, groups.groupIdOnly],
  [13, groups.groupIdOnly],
  [14, groups.groupIdOnly],
  [15, groups.describeGroups],
  [16, groups.listGroups],
  [19, topics.createTopics],
  [20, topics.deleteTopics],
  [21, data.deleteRecords],
  [22, groups.initProducerId],
  [23, data.offsetForLeaderEpoch],
  [29, acls.describeAcls],
  [30, acls.createAcls],
  [31, acls.deleteAcls],
  [32, topics.describeConfigs],
  [33, topics.alterConfigs],
  [35, topics.describeLogDirs],
  [37, topics.createPartitions],
  [42, groups.deleteGroups],
  [44, topics.alterConfigs],
  [47, groups.offsetDelete],
  [48, quotas.describeClientQuotas],
  [49, quotas.alterClientQuotas],
  [50, scram.describeScram],
  [51, scram.alterScram],
  [61, data.describeProducers],
  [68, groups.consumerGroupHeartbeat],
  [69, groups.consumerGroupDescribe],
]);

export function translateRequest(t: TenantContext, apiKey: number, version: number, req: unknown, ctx: RequestContext): ResponseFix | null {
  const translator = TRANSLATORS.get(apiKey);
  return translator ? translator(t, req as never, version, ctx) : null;
}

/** Applies a response fix unless the handler answered nothing (acks=0) or asked to close. */
export function translateResponse(fix: ResponseFix | null, res: unknown): unknown {
  if (fix !== null && typeof res === "object" && res !== null) fix(res);
  return res;
}
