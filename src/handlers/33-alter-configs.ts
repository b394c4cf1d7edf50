/**
 * AlterConfigs (key 33), v0-2. Replaces the whole set of a topic's overrides (configs not named go
 * back to their defaults), as Kafka's legacy API does. Broker resources are refused: the broker's
 * config is static (server.properties). ALTER_CONFIGS on the topic (TOPIC_AUTHORIZATION_FAILED) or
 * the cluster for broker resources (CLUSTER_AUTHORIZATION_FAILED) is checked first, per resource.
 */
import { readAlterConfigsRequest } from "../protocol/generated/alter-configs-request.ts";
import { writeAlterConfigsResponse, type AlterConfigsResponse } from "../protocol/generated/alter-configs-response.ts";
import { changeTopicConfig } from "../broker/config-changes.ts";
import { defineHandler } from "./handler.ts";
import { configResourceDenial } from "../acl/check.ts";
import { AclOperation } from "../acl/types.ts";

export const alterConfigsHandler = defineHandler({
  apiKey: 33,
  name: "AlterConfigs",
  minVersion: 0,
  maxVersion: 2,
  readRequest: readAlterConfigsRequest,
  writeResponse: writeAlterConfigsResponse,
  async handle(ctx, req) {
    const { broker } = ctx;
    const responses: AlterConfigsResponse["responses"] = [];
    for (const res of req.resources) {
      const denial = configResourceDenial(ctx, AclOperation.ALTER_CONFIGS, res.resourceType, res.resourceName);
      if (denial) {
        responses.push({ ...denial, resourceType: res.resourceType, resourceName: res.resourceName });
        continue;
      }
      responses.push(
        await changeTopicConfig(broker, res.resourceType, res.resourceName, req.validateOnly, () => {
          const replacement: Record<string, string> = {};
          for (const c of res.configs) if (c.value !== null) replacement[c.name] = c.value;
          return replacement;
        }),
      );
    }
    return { throttleTimeMs: 0, responses } satisfies AlterConfigsResponse;
  },
});
