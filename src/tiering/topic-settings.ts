/** Reads the tiering-related topic configs out of a topic's typed effective config; validates changes. */
import type { ConfigValue } from "../config/config-def.ts";
import type { TopicTierSettings } from "./partition-tier.ts";

/** Kafka's "-2: use the retention.* value" for local.retention.*. */
const USE_RETENTION = -2;

export function topicTierSettings(c: ReadonlyMap<string, ConfigValue>): TopicTierSettings {
  const num = (name: string, fallback: number): number => {
    const v = c.get(name);
    return typeof v === "number" ? v : fallback;
  };
  const retentionMs = num("retention.ms", 604800000);
  const retentionBytes = num("retention.bytes", -1);
  const localMs = num("local.retention.ms", USE_RETENTION);
  const localBytes = num("local.retention.bytes", USE_RETENTION);
  return {
    remoteStorageEnable: c.get("remote.storage.enable") === true,
    retentionMs,
    retentionBytes,
    localRetentionMs: localMs === USE_RETENTION ? retentionMs : localMs,
    localRetentionBytes: localBytes === USE_RETENTION ? retentionBytes : localBytes,
  };
}

const REMOTE_STORAGE_ENABLE = "remote.storage.enable";

/** How Kafka reads a boolean config value: trimmed, any case. */
function isTrue(value: string | undefined): boolean {
  return value !== undefined && value.trim().toLowerCase() === "true";
}

/**
 * A config change that turns remote.storage.enable off on a topic that has it on is refused with
 * INVALID_CONFIG, as Kafka does (LogConfig.validateTurningOffRemoteStorageWithDelete). Kafka lets it
 * through only with remote.log.delete.on.disable=true, and offers remote.log.copy.disable=true for
 * a read-only tier; Bunka serves neither, so here it is always refused. `current` and `updated`
 * are the topic's overrides before and after (the option has no broker-level synonym, so an absent
 * override means false). Returns the error message, or null when the change is fine.
 */
export function validateRemoteStorageChange(
  current: Readonly<Record<string, string>>,
  updated: Readonly<Record<string, string>>,
): string | null {
  if (!isTrue(current[REMOTE_STORAGE_ENABLE]) || isTrue(updated[REMOTE_STORAGE_ENABLE])) return null;
  return (
    "It is invalid to disable remote storage without deleting remote data. " +
    "Bunka serves neither remote.log.copy.disable (keep the remote data read-only) nor " +
    "remote.log.delete.on.disable (delete it); to stop tiering this topic, delete and re-create it."
  );
}
