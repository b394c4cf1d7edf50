/**
 * IncrementalAlterConfigs (key 44), v0-1. Operations per config: SET (0), DELETE (1), APPEND (2) and
 * SUBTRACT (3), the last two only for list configs, as in Kafka. Broker resources are refused.
 * ALTER_CONFIGS on the topic / cluster is checked first, per resource, as in AlterConfigs.
 */
import { readIncrementalAlterConfigsRequest } from "../protocol/generated/incremental-alter-configs-request.ts";
import { writeIncrementalAlterConfigsResponse, type IncrementalAlterConfigsResponse } from "../protocol/generated/incremental-alter-configs-response.ts";
import { changeTopicConfig, isListConfig } from "../broker/config-changes.ts";
import { defineHandler } from "./handler.ts";
import { configResourceDenial } from "../acl/check.ts";
import { AclOperation } from "../acl/types.ts";

const SET = 0;
const DELETE = 1;
const APPEND = 2;
const SUBTRACT = 3;

export const incrementalAlterConfigsHandler = defineHandler({
  apiKey: 44,
  name: "IncrementalAlterConfigs",
  minVersion: 0,
  maxVersion: 1,
  readRequest: readIncrementalAlterConfigsRequest,
  writeResponse: writeIncrementalAlterConfigsResponse,
  async handle(ctx, req) {
    const { broker } = ctx;
    const responses: IncrementalAlterConfigsResponse["responses"] = [];
    for (const res of req.resources) {
      const denial = configResourceDenial(ctx, AclOperation.ALTER_CONFIGS, res.resourceType, res.resourceName);
      if (denial) {
        responses.push({ ...denial, resourceType: res.resourceType, resourceName: res.resourceName });
        continue;
      }
      responses.push(
        await changeTopicConfig(broker, res.resourceType, res.resourceName, req.validateOnly, (current) => {
          const next: Record<string, string> = { ...current };
          for (const c of res.configs) {
            switch (c.configOperation) {
              case SET:
                if (c.value === null) return `Config ${c.name} needs a value to be SET`;
                next[c.name] = c.value;
                break;
              case DELETE:
                delete next[c.name];
                break;
              case APPEND:
              case SUBTRACT: {
                if (!isListConfig(c.name)) return `Config value append/subtract is not allowed for config key: ${c.name}`;
                const items = (next[c.name] ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
                const values = (c.value ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
                const merged = c.configOperation === APPEND ? [...items, ...values.filter((v) => !items.includes(v))] : items.filter((i) => !values.includes(i));
                next[c.name] = merged.join(",");
                break;
              }
              default:
                return `Unknown config operation ${c.configOperation} for ${c.name}`;
            }
          }
          return next;
        }),
      );
    }
    return { throttleTimeMs: 0, responses } satisfies IncrementalAlterConfigsResponse;
  },
});
