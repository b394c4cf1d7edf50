/**
 * Shared logic of AlterConfigs and IncrementalAlterConfigs: compute a topic's new overrides, validate
 * them all before touching anything (a request either applies whole or not at all per resource), then
 * persist and push the new log config to the partitions.
 */
import { TOPIC_CONFIG_BY_NAME, validateTopicConfig } from "../config/topic-config.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { validateRemoteStorageChange } from "../tiering/topic-settings.ts";
import type { Broker } from "./broker.ts";

export const RESOURCE_TOPIC = 2;
export const RESOURCE_BROKER = 4;

export interface ResourceResult {
  errorCode: number;
  errorMessage: string | null;
  resourceType: number;
  resourceName: string;
}

/** Applies `next(current)` to a topic's overrides; `next` returns the new map or an error message. */
export async function changeTopicConfig(
  broker: Broker,
  resourceType: number,
  resourceName: string,
  validateOnly: boolean,
  next: (current: Readonly<Record<string, string>>) => Record<string, string> | string,
): Promise<ResourceResult> {
  const result = (errorCode: number, errorMessage: string | null = null): ResourceResult => ({ errorCode, errorMessage, resourceType, resourceName });
  if (resourceType === RESOURCE_BROKER) return result(ErrorCode.INVALID_REQUEST, "Dynamic broker configs are not supported; set them in server.properties");
  if (resourceType !== RESOURCE_TOPIC) return result(ErrorCode.INVALID_REQUEST, `Unsupported resource type ${resourceType}`);
  const state = broker.topics.get(resourceName);
  if (!state) return result(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic ${resourceName} does not exist.`);
  const updated = next(state.record.configs);
  if (typeof updated === "string") return result(ErrorCode.INVALID_CONFIG, updated);
  for (const [name, value] of Object.entries(updated)) {
    const err = validateTopicConfig(name, value);
    if (err) return result(ErrorCode.INVALID_CONFIG, err);
  }
  const tierErr = validateRemoteStorageChange(state.record.configs, updated);
  if (tierErr) return result(ErrorCode.INVALID_CONFIG, tierErr);
  if (!validateOnly) await broker.topics.setConfigs(resourceName, updated);
  return result(ErrorCode.NONE);
}

export function isListConfig(name: string): boolean {
  return TOPIC_CONFIG_BY_NAME.get(name)?.type === "list";
}
