/**
 * Topic-level configs (Kafka's names and defaults) and how each falls back to a broker-level synonym.
 * A topic's effective value is: its own override, else the broker's synonym (first set one wins, e.g.
 * log.retention.ms before log.retention.minutes before log.retention.hours), else the default.
 */
import { LONG_MAX_STRING, parseConfigValue, type ConfigDef, type ConfigValue } from "./config-def.ts";

export interface BrokerSynonym {
  name: string;
  /** Multiply the broker value by this to get the topic config's unit (hours → ms, ...). */
  scale?: number;
}

export interface TopicConfigDef extends ConfigDef {
  synonyms: readonly BrokerSynonym[];
}

const HOUR = 3_600_000;

export const TOPIC_CONFIGS: readonly TopicConfigDef[] = [
  {
    name: "cleanup.policy", type: "list", defaultValue: "delete", oneOf: ["delete"],
    synonyms: [{ name: "log.cleanup.policy" }],
    doc: "Only 'delete' is served; compaction is not implemented yet.",
  },
  {
    name: "compression.type", type: "string", defaultValue: "producer",
    oneOf: ["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"],
    synonyms: [{ name: "compression.type" }],
    doc: "Final compression of the topic's batches.",
  },
  {
    name: "delete.retention.ms", type: "long", defaultValue: "86400000", min: 0,
    synonyms: [{ name: "log.cleaner.delete.retention.ms" }], doc: "Tombstone retention (compacted topics).",
  },
  {
    name: "file.delete.delay.ms", type: "long", defaultValue: "60000", min: 0,
    synonyms: [{ name: "log.segment.delete.delay.ms" }], doc: "Delay before a deleted segment's files are removed.",
  },
  {
    name: "flush.messages", type: "long", defaultValue: LONG_MAX_STRING, min: 1,
    synonyms: [{ name: "log.flush.interval.messages" }],
    doc: "Left at its default, Bunka is durable: acks=all is answered after fsync. A finite value selects periodic flushing.",
  },
  {
    name: "flush.ms", type: "long", defaultValue: LONG_MAX_STRING, min: 0,
    synonyms: [{ name: "log.flush.interval.ms" }],
    doc: "Left at its default, Bunka is durable. A finite value selects flushing at that interval.",
  },
  {
    name: "index.interval.bytes", type: "int", defaultValue: "4096", min: 0,
    synonyms: [{ name: "log.index.interval.bytes" }], doc: "Bytes between sparse offset-index entries.",
  },
  {
    name: "local.retention.bytes", type: "long", defaultValue: "-2", min: -2,
    synonyms: [{ name: "log.local.retention.bytes" }], doc: "Local retention for tiered topics (-2: use retention.bytes).",
  },
  {
    name: "local.retention.ms", type: "long", defaultValue: "-2", min: -2,
    synonyms: [{ name: "log.local.retention.ms" }], doc: "Local retention for tiered topics (-2: use retention.ms).",
  },
  {
    name: "max.message.bytes", type: "int", defaultValue: "1048588", min: 0,
    synonyms: [{ name: "message.max.bytes" }], doc: "Largest record batch the topic accepts.",
  },
  {
    name: "message.timestamp.after.max.ms", type: "long", defaultValue: "3600000", min: 0,
    synonyms: [{ name: "log.message.timestamp.after.max.ms" }], doc: "How far in the future a CreateTime may be.",
  },
  {
    name: "message.timestamp.before.max.ms", type: "long", defaultValue: LONG_MAX_STRING, min: 0,
    synonyms: [{ name: "log.message.timestamp.before.max.ms" }], doc: "How far in the past a CreateTime may be.",
  },
  {
    name: "message.timestamp.type", type: "string", defaultValue: "CreateTime", oneOf: ["CreateTime", "LogAppendTime"],
    synonyms: [{ name: "log.message.timestamp.type" }], doc: "Which timestamp the log keeps.",
  },
  {
    name: "min.insync.replicas", type: "int", defaultValue: "1", min: 1, max: 1,
    synonyms: [{ name: "min.insync.replicas" }], doc: "Single node: always 1.",
  },
  {
    name: "preallocate", type: "boolean", defaultValue: "false",
    synonyms: [{ name: "log.preallocate" }], doc: "Accepted for compatibility; segments are not preallocated.",
  },
  {
    name: "remote.storage.enable", type: "boolean", defaultValue: "false",
    synonyms: [], doc: "Tier sealed segments to the object store (KIP-405).",
  },
  {
    name: "retention.bytes", type: "long", defaultValue: "-1", min: -1,
    synonyms: [{ name: "log.retention.bytes" }], doc: "Size bound of the partition log (-1: none).",
  },
  {
    name: "retention.ms", type: "long", defaultValue: "604800000", min: -1,
    synonyms: [
      { name: "log.retention.ms" },
      { name: "log.retention.minutes", scale: 60_000 },
      { name: "log.retention.hours", scale: HOUR },
    ],
    doc: "Age bound of the partition log (-1: none).",
  },
  {
    name: "segment.bytes", type: "int", defaultValue: "1073741824", min: 14,
    synonyms: [{ name: "log.segment.bytes" }], doc: "Roll a segment at this size.",
  },
  {
    name: "segment.index.bytes", type: "int", defaultValue: "10485760", min: 4,
    synonyms: [{ name: "log.index.size.max.bytes" }], doc: "Maximum offset-index size per segment.",
  },
  {
    name: "segment.jitter.ms", type: "long", defaultValue: "0", min: 0,
    synonyms: [{ name: "log.roll.jitter.ms" }, { name: "log.roll.jitter.hours", scale: HOUR }],
    doc: "Random jitter subtracted from segment.ms.",
  },
  {
    name: "segment.ms", type: "long", defaultValue: "604800000", min: 1,
    synonyms: [{ name: "log.roll.ms" }, { name: "log.roll.hours", scale: HOUR }],
    doc: "Roll a segment at this age.",
  },
  {
    name: "unclean.leader.election.enable", type: "boolean", defaultValue: "false",
    synonyms: [{ name: "unclean.leader.election.enable" }], doc: "Single node: no effect.",
  },
];

export const TOPIC_CONFIG_BY_NAME: ReadonlyMap<string, TopicConfigDef> = new Map(TOPIC_CONFIGS.map((d) => [d.name, d]));

/** Where an effective value came from, with Kafka's DescribeConfigs ConfigSource numbers. */
export const enum ConfigSource {
  DynamicTopic = 1,
  DynamicBroker = 2,
  DynamicDefaultBroker = 3,
  StaticBroker = 4,
  Default = 5,
}

export interface EffectiveConfigEntry {
  name: string;
  value: string | null;
  source: ConfigSource;
  /** Ordered as Kafka lists synonyms: the topic override, then broker synonyms that are set, then the default. */
  synonyms: { name: string; value: string | null; source: ConfigSource }[];
  def: TopicConfigDef;
}

/** Checks one topic config override; returns an error message in Kafka's wording, or null. */
export function validateTopicConfig(name: string, value: string | null): string | null {
  const def = TOPIC_CONFIG_BY_NAME.get(name);
  if (!def) return `Unknown topic config name: ${name}`;
  if (value === null) return null;
  const parsed = parseConfigValue(def, value);
  return "error" in parsed ? parsed.error : null;
}

/** The effective value of every topic config given the topic's overrides and the static broker config. */
export function effectiveTopicConfig(
  overrides: Readonly<Record<string, string>>,
  brokerValues: ReadonlyMap<string, string>,
): EffectiveConfigEntry[] {
  return TOPIC_CONFIGS.map((def) => {
    const synonyms: EffectiveConfigEntry["synonyms"] = [];
    const own = overrides[def.name];
    if (own !== undefined) synonyms.push({ name: def.name, value: own, source: ConfigSource.DynamicTopic });
    for (const syn of def.synonyms) {
      const raw = brokerValues.get(syn.name);
      if (raw === undefined) continue;
      const value = syn.scale ? String(Number(raw) * syn.scale) : raw;
      synonyms.push({ name: syn.name, value, source: ConfigSource.StaticBroker });
    }
    const firstSynonym = def.synonyms[0];
    synonyms.push({ name: firstSynonym?.name ?? def.name, value: def.defaultValue, source: ConfigSource.Default });
    const winner = synonyms[0]!;
    return { name: def.name, value: winner.value, source: winner.source, synonyms, def };
  });
}

/** Typed view of the effective values, for the storage layer. */
export function typedTopicConfig(entries: readonly EffectiveConfigEntry[]): Map<string, ConfigValue> {
  const out = new Map<string, ConfigValue>();
  for (const e of entries) {
    const parsed = parseConfigValue(e.def, e.value);
    out.set(e.name, "value" in parsed ? parsed.value : null);
  }
  return out;
}
