/** Reads the tiering-related topic configs out of a topic's typed effective config. */
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
