/**
 * DescribeConfigs (key 32), v1-4 (Kafka 4 removed v0). Topic resources list every topic config with
 * its effective value, source and (when asked) synonyms in Kafka's order: topic override, static
 * broker settings, default. Broker resources (name "" or this node's id) list the static config.
 * DESCRIBE_CONFIGS is required per resource: on the topic (else TOPIC_AUTHORIZATION_FAILED) or
 * the cluster for broker resources (else CLUSTER_AUTHORIZATION_FAILED).
 * Skipped: BROKER_LOGGER resources (answered with an error), dynamic broker configs.
 */
import { readDescribeConfigsRequest } from "../protocol/generated/describe-configs-request.ts";
import { writeDescribeConfigsResponse, type DescribeConfigsResponse } from "../protocol/generated/describe-configs-response.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { describeConfigType } from "../config/config-def.ts";
import { ConfigSource } from "../config/topic-config.ts";
import { describeBrokerConfig } from "../config/broker-config.ts";
import { RESOURCE_BROKER, RESOURCE_TOPIC } from "../broker/config-changes.ts";
import { defineHandler } from "./handler.ts";
import { configResourceDenial } from "../acl/check.ts";
import { AclOperation } from "../acl/types.ts";

type Result = DescribeConfigsResponse["results"][number];
type Entry = Result["configs"][number];


export const describeConfigsHandler = defineHandler({
  apiKey: 32,
  name: "DescribeConfigs",
  minVersion: 1,
  maxVersion: 4,
  readRequest: readDescribeConfigsRequest,
  writeResponse: writeDescribeConfigsResponse,
  handle(ctx, req) {
    const { broker } = ctx;
    const results: Result[] = req.resources.map((res): Result => {
      const base = { resourceType: res.resourceType, resourceName: res.resourceName };
      const wanted = res.configurationKeys ? new Set(res.configurationKeys) : null;
      const keep = (name: string) => wanted === null || wanted.has(name);
      const denial = configResourceDenial(ctx, AclOperation.DESCRIBE_CONFIGS, res.resourceType, res.resourceName);
      if (denial) return { ...base, ...denial, configs: [] };
      if (res.resourceType === RESOURCE_TOPIC) {
        const state = broker.topics.get(res.resourceName);
        if (!state) {
          return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Topic ${res.resourceName} does not exist.`, configs: [] };
        }
        const configs = broker.topics.effectiveConfig(state.record).filter((e) => keep(e.name)).map((e): Entry => ({
          name: e.name,
          value: e.value,
          readOnly: false,
          isDefault: e.source === ConfigSource.Default,
          configSource: e.source,
          isSensitive: false,
          synonyms: req.includeSynonyms ? e.synonyms.map((s) => ({ name: s.name, value: s.value, source: s.source })) : [],
          configType: describeConfigType(e.def.type),
          documentation: req.includeDocumentation ? e.def.doc : null,
        }));
        return { ...base, errorCode: ErrorCode.NONE, errorMessage: null, configs };
      }
      if (res.resourceType === RESOURCE_BROKER) {
        if (res.resourceName !== "" && res.resourceName !== String(broker.nodeId)) {
          return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unexpected broker id, expected ${broker.nodeId} but received ${res.resourceName}`, configs: [] };
        }
        const configs = describeBrokerConfig(broker.config).filter((e) => keep(e.name)).map((e): Entry => {
          const source = e.isDefault ? ConfigSource.Default : ConfigSource.StaticBroker;
          return {
            name: e.name,
            value: e.value,
            readOnly: true,
            isDefault: e.isDefault,
            configSource: source,
            isSensitive: e.def.type === "password",
            synonyms: req.includeSynonyms ? [{ name: e.name, value: e.value, source }] : [],
            configType: describeConfigType(e.def.type),
            documentation: req.includeDocumentation ? e.def.doc : null,
          };
        });
        return { ...base, errorCode: ErrorCode.NONE, errorMessage: null, configs };
      }
      return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unsupported resource type ${res.resourceType}`, configs: [] };
    });
    return { throttleTimeMs: 0, results } satisfies DescribeConfigsResponse;
  },
});
