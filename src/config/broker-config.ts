/**
 * The broker's static configuration: Kafka's server.properties names, loaded from an optional file
 * plus `--override key=value` arguments (later wins). Unknown keys are reported, known Kafka keys
 * that mean nothing on a single node are reported as ignored, and an invalid value stops startup.
 */
import { readFileSync } from "node:fs";
import { parseConfigValue, type ConfigDef, type ConfigValue } from "./config-def.ts";
import { parseProperties } from "./properties.ts";
import { TOPIC_CONFIGS } from "./topic-config.ts";
import type { SecurityProtocol } from "../auth/listener-binding.ts";
import { SERVED_MECHANISMS } from "../auth/mechanisms.ts";
import { TlsConfigError, loadTlsMaterial, type TlsMaterial } from "../auth/tls-config.ts";

export class ConfigError extends Error {}

const BROKER_CONFIGS: readonly ConfigDef[] = [
  { name: "node.id", type: "int", defaultValue: "1", min: 0, doc: "This broker's id." },
  { name: "broker.id", type: "int", defaultValue: null, min: 0, doc: "Old name of node.id." },
  {
    name: "listeners", type: "list", defaultValue: "PLAINTEXT://127.0.0.1:9092",
    doc: "Where the broker listens, as LISTENER://host:port (port 0 picks a free port).",
  },
  { name: "advertised.listeners", type: "list", defaultValue: null, doc: "Addresses given to clients; default: listeners." },
  // Security (see README "Authentication and TLS").
  {
    name: "listener.security.protocol.map", type: "list", defaultValue: "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL",
    doc: "Listener name -> security protocol (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL).",
  },
  {
    name: "sasl.enabled.mechanisms", type: "list", defaultValue: "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
    doc: "SASL mechanisms of SASL listeners (Bunka serves PLAIN, SCRAM-SHA-256, SCRAM-SHA-512); listener.name.<name>.sasl.enabled.mechanisms overrides per listener.",
  },
  { name: "ssl.keystore.type", type: "string", defaultValue: "PEM", doc: "Keystore format of TLS listeners: PEM only." },
  { name: "ssl.keystore.location", type: "string", defaultValue: null, doc: "PEM file with the private key and certificate chain of TLS listeners." },
  { name: "ssl.keystore.certificate.chain", type: "password", defaultValue: null, doc: "Certificate chain in PEM, inline (instead of ssl.keystore.location)." },
  { name: "ssl.keystore.key", type: "password", defaultValue: null, doc: "Private key in PEM, inline (instead of ssl.keystore.location)." },
  { name: "ssl.key.password", type: "password", defaultValue: null, doc: "Password of an encrypted private key." },
  { name: "ssl.client.auth", type: "string", defaultValue: "none", oneOf: ["none"], doc: "Client certificates: not requested (none is the only value served)." },
  // Authorization (src/acl, docs/DECISIONS.md "ACLs").
  {
    name: "authorizer.class.name", type: "string", defaultValue: "",
    oneOf: ["", "bunka", "org.apache.kafka.metadata.authorizer.StandardAuthorizer", "kafka.security.authorizer.AclAuthorizer"],
    doc: "ACL enforcement: empty (default) allows everything; bunka or Kafka's StandardAuthorizer/AclAuthorizer names turn on Bunka's ACL authorizer.",
  },
  { name: "super.users", type: "string", defaultValue: null, doc: "Principals (User:name, ;-separated) allowed everything when an authorizer is on." },
  { name: "allow.everyone.if.no.acl.found", type: "boolean", defaultValue: "false", doc: "With an authorizer on: allow a resource that has no ACL at all." },
  { name: "log.dirs", type: "list", defaultValue: null, doc: "Data directory (one)." },
  { name: "log.dir", type: "string", defaultValue: "./data", doc: "Data directory when log.dirs is unset." },
  { name: "num.partitions", type: "int", defaultValue: "1", min: 1, doc: "Partitions of auto-created topics." },
  { name: "default.replication.factor", type: "int", defaultValue: "1", min: 1, max: 1, doc: "Single node: 1." },
  { name: "auto.create.topics.enable", type: "boolean", defaultValue: "true", doc: "Create topics on first use." },
  { name: "delete.topic.enable", type: "boolean", defaultValue: "true", doc: "Allow DeleteTopics." },
  { name: "socket.request.max.bytes", type: "int", defaultValue: "104857600", min: 1, doc: "Largest request frame." },
  { name: "log.retention.check.interval.ms", type: "long", defaultValue: "300000", min: 1, doc: "Retention sweep period." },
  { name: "producer.id.expiration.ms", type: "int", defaultValue: "86400000", min: 1, doc: "Idle producers (no batch for this long, no open transaction) are forgotten by every partition." },
  { name: "producer.id.expiration.check.interval.ms", type: "int", defaultValue: "600000", min: 1, doc: "Period of the producer-id expiry sweep." },
  { name: "group.initial.rebalance.delay.ms", type: "int", defaultValue: "3000", min: 0, doc: "First-join delay." },
  { name: "offsets.retention.minutes", type: "int", defaultValue: "10080", min: 1, doc: "Committed offset retention." },
  { name: "offsets.retention.check.interval.ms", type: "long", defaultValue: "600000", min: 1, doc: "Period of the expired-offset sweep." },
  { name: "offset.metadata.max.bytes", type: "int", defaultValue: "4096", min: 0, doc: "Largest metadata string of a committed offset." },
  { name: "offsets.topic.segment.bytes", type: "int", defaultValue: "104857600", min: 1, doc: "Segment size of the group log; it is compacted past this size." },
  { name: "group.min.session.timeout.ms", type: "int", defaultValue: "6000", min: 0, doc: "Smallest session timeout a member may ask for." },
  { name: "group.max.session.timeout.ms", type: "int", defaultValue: "1800000", min: 0, doc: "Largest session timeout a member may ask for." },
  { name: "group.max.size", type: "int", defaultValue: "2147483647", min: 1, doc: "Most members of one classic group." },
  // KIP-848 consumer groups (src/groups/consumer-group.ts).
  { name: "group.consumer.heartbeat.interval.ms", type: "int", defaultValue: "5000", min: 1, doc: "Heartbeat interval given to consumer-protocol members." },
  { name: "group.consumer.session.timeout.ms", type: "int", defaultValue: "45000", min: 1, doc: "A consumer-protocol member without a heartbeat for this long is removed." },
  {
    name: "group.consumer.assignors", type: "list", defaultValue: "uniform,range",
    doc: "Server-side assignors (uniform, range, or Kafka's class names for them); the first is the default.",
  },
  { name: "connections.max.idle.ms", type: "long", defaultValue: "600000", min: -1, doc: "Idle connections close after this." },
  { name: "broker.rack", type: "string", defaultValue: null, doc: "Rack reported in metadata." },
  // Tiering (KIP-405 names where Kafka has one; bunka.* for what Kafka leaves to plugins). See src/tiering/tier-config.ts.
  { name: "remote.log.storage.system.enable", type: "boolean", defaultValue: "true", doc: "Tiering on this broker (topics opt in with remote.storage.enable)." },
  { name: "remote.fetch.max.wait.ms", type: "int", defaultValue: "500", min: 1, doc: "Longest a Fetch waits for remote data; then that partition is answered empty (the read goes on and lands in the chunk cache)." },
  { name: "remote.log.manager.task.interval.ms", type: "long", defaultValue: "2000", min: 10, doc: "Period of the upload / remote retention pass." },
  { name: "bunka.tier.store", type: "string", defaultValue: null, oneOf: ["fs", "s3"], doc: "Object store: fs (a directory) or s3; default s3 when an endpoint is set, else fs." },
  { name: "bunka.tier.fs.dir", type: "string", defaultValue: null, doc: "Directory of the fs store; default <log.dirs>/__bunka_internal/tier." },
  { name: "bunka.tier.s3.endpoint", type: "string", defaultValue: null, doc: "S3 / MinIO endpoint URL, e.g. http://127.0.0.1:9000 (env BUNKA_TIER_S3_ENDPOINT)." },
  { name: "bunka.tier.s3.bucket", type: "string", defaultValue: null, doc: "Bucket, created when missing (env BUNKA_TIER_S3_BUCKET; default bunka)." },
  { name: "bunka.tier.s3.access.key", type: "string", defaultValue: null, doc: "Access key (env BUNKA_TIER_S3_ACCESS_KEY or AWS_ACCESS_KEY_ID)." },
  { name: "bunka.tier.s3.secret.key", type: "password", defaultValue: null, doc: "Secret key (env BUNKA_TIER_S3_SECRET_KEY or AWS_SECRET_ACCESS_KEY)." },
  { name: "bunka.tier.s3.region", type: "string", defaultValue: null, doc: "Region (env BUNKA_TIER_S3_REGION or AWS_REGION; default us-east-1)." },
  { name: "bunka.tier.prefix", type: "string", defaultValue: null, doc: "Key prefix of this broker's objects; default the cluster id." },
  { name: "bunka.tier.op.timeout.ms", type: "long", defaultValue: "30000", min: 1, doc: "Time bound of one object-store call (uploads get 1 s per MiB more)." },
  { name: "bunka.tier.upload.concurrency", type: "int", defaultValue: "4", min: 1, doc: "Partitions whose tiering work (uploads, remote retention) runs at once in a pass (Kafka: remote.log.manager.copier.thread.pool.size)." },
  { name: "bunka.tier.chunk.bytes", type: "int", defaultValue: "1048576", min: 4096, doc: "Size of the ranged GETs of remote reads." },
  { name: "bunka.tier.chunk.cache.bytes", type: "long", defaultValue: "134217728", min: 0, doc: "Memory of the remote-read chunk cache (LRU)." },
  { name: "bunka.log.io", type: "string", defaultValue: "auto", oneOf: ["auto", "io_uring", "pwrite", "js"], doc: "Segment I/O: auto (io_uring on a native thread, else pwrite there), io_uring (refuse to start without it), pwrite, js (JS thread + libuv threadpool fdatasync)." },
  { name: "bunka.log.mmap", type: "boolean", defaultValue: "true", doc: "Flush-interval logs: appends below 2 KiB go through a shared mapping of the active segment (sparse tail, pages reserved ahead) instead of one pwrite each; false: pwrite only." },
  { name: "bunka.log.warm.ahead", type: "boolean", defaultValue: "true", doc: "Flush-interval logs (with bunka.log.mmap): appends through the mapping and of 128 KiB and more keep the file a stretch longer than its data, and readahead(2) on the worker pool brings that sparse tail into the page cache, so appends land in pages that already exist (new page-cache pages are slow on VMs that hand free memory back to the host); the next mapped window is populated writable there too, so mapped appends make no call on the JS thread; and every 8 MiB written starts its writeback on a thread 10 nice steps below the broker (sync_file_range, write-behind), so a segment is not written back all at once by the fsync after its roll; on that thread the data more than 64 MiB below the append position is then dropped from the page cache once written back, so the writer reuses the pages it gave back instead of taking fresh ones; false: off." },
  { name: "bunka.log.syncfs.min.files", type: "int", defaultValue: "2", min: 0, doc: "Durable logs on the native engine: when at least this many files wait for an fsync at once, one syncfs(2) of the filesystem covers them all instead of one fdatasync each (0: never; syncfs also writes back other programs' dirty data on that filesystem)." },
  { name: "bunka.hot.cache.bytes", type: "long", defaultValue: "268435456", min: 0, doc: "Memory tier: newest batches of all partitions, shared fairly (0: off)." },
  // Quotas (src/quota/quota-config.ts; client quotas themselves are set with AlterClientQuotas).
  { name: "quota.window.num", type: "int", defaultValue: "11", min: 1, doc: "Samples kept by the client-quota rate windows." },
  { name: "quota.window.size.seconds", type: "int", defaultValue: "1", min: 1, doc: "Length of one client-quota sample." },
  { name: "max.connections", type: "int", defaultValue: "2147483647", min: 0, doc: "Most open connections on the broker (all listeners)." },
  { name: "max.connections.per.ip", type: "int", defaultValue: "2147483647", min: 0, doc: "Most open connections from one IP address." },
  { name: "max.connection.creation.rate", type: "int", defaultValue: "2147483647", min: 0, doc: "Most new connections per second on the broker; faster arrivals are held (muted) until the rate allows them." },
  { name: "bunka.broker.capacity.ingress.bytes.per.sec", type: "long", defaultValue: "0", min: 0, doc: "Produce bytes/s the broker can take; past bunka.broker.capacity.threshold of it every tenant's produce quota shrinks to its share (0: unlimited, no backpressure)." },
  { name: "bunka.broker.capacity.egress.bytes.per.sec", type: "long", defaultValue: "0", min: 0, doc: "Fetch bytes/s the broker can serve; same backpressure for fetch (0: unlimited)." },
  { name: "bunka.broker.capacity.threshold", type: "double", defaultValue: "0.8", min: 0, max: 1, doc: "Fraction of a broker capacity at which backpressure starts." },
  // Tenants (src/tenant/unit.ts): one capacity unit; a tenant's limits are its units x these.
  { name: "bunka.tenant.unit.ingress.bytes.per.sec", type: "long", defaultValue: "1048576", min: 1, doc: "Produce bytes/s of one tenant capacity unit." },
  { name: "bunka.tenant.unit.egress.bytes.per.sec", type: "long", defaultValue: "3145728", min: 1, doc: "Fetch bytes/s of one tenant capacity unit." },
  { name: "bunka.tenant.unit.requests.per.sec", type: "int", defaultValue: "1000", min: 1, doc: "Requests/s of one tenant capacity unit." },
  { name: "bunka.tenant.unit.connections", type: "int", defaultValue: "100", min: 1, doc: "Open connections of one tenant capacity unit." },
  { name: "bunka.tenant.unit.partitions", type: "int", defaultValue: "100", min: 1, doc: "Partitions (all topics) of one tenant capacity unit." },
  { name: "bunka.tenant.unit.controller.mutation.rate", type: "double", defaultValue: "10", min: 0, doc: "Partitions created per second by one tenant capacity unit (KIP-599)." },
  {
    name: "log.message.deep.validation.enable", type: "boolean", defaultValue: "false",
    doc: "Bunka: decompress every produced batch and check its records against the header (count, structure).",
  },
];

/** Kafka keys that are valid in server.properties but have no effect on a single-node Bunka. */
const IGNORED_KAFKA_KEYS: ReadonlySet<string> = new Set([
  "process.roles", "controller.quorum.voters", "controller.quorum.bootstrap.servers", "controller.listener.names",
  "inter.broker.listener.name", "security.inter.broker.protocol", "sasl.mechanism.inter.broker.protocol",
  "sasl.mechanism.controller.protocol", "num.network.threads", "num.io.threads",
  "socket.send.buffer.bytes", "socket.receive.buffer.bytes", "num.recovery.threads.per.data.dir",
  "offsets.topic.replication.factor", "transaction.state.log.replication.factor", "transaction.state.log.min.isr",
  "share.coordinator.state.topic.replication.factor", "share.coordinator.state.topic.min.isr",
  "num.replica.fetchers", "replica.fetch.max.bytes", "replica.lag.time.max.ms", "zookeeper.connect",
  "zookeeper.connection.timeout.ms", "log.cleaner.enable", "log.cleaner.threads", "queued.max.requests",
  "background.threads", "metadata.log.dir", "auto.leader.rebalance.enable", "offsets.topic.num.partitions",
]);

const ALL_DEFS: ReadonlyMap<string, ConfigDef> = (() => {
  const m = new Map<string, ConfigDef>(BROKER_CONFIGS.map((d) => [d.name, d]));
  // Every broker-level synonym of a topic config is a broker key too (log.retention.hours, message.max.bytes...).
  for (const topicDef of TOPIC_CONFIGS) {
    for (const syn of topicDef.synonyms) {
      if (m.has(syn.name)) continue;
      m.set(syn.name, { ...topicDef, name: syn.name, type: syn.scale ? "long" : topicDef.type, min: syn.scale ? 1 : topicDef.min, defaultValue: null });
    }
  }
  return m;
})();

export interface Listener {
  name: string;
  host: string;
  port: number;
}

export interface ListenerSecurity {
  /** From listener.security.protocol.map. */
  protocol: SecurityProtocol;
  /** SASL mechanisms offered (empty unless SASL_PLAINTEXT / SASL_SSL). */
  saslMechanisms: string[];
}

export interface BrokerConfig {
  nodeId: number;
  listeners: Listener[];
  /** One per listener, in the order of `listeners` (a listener not named in advertised.listeners advertises itself). */
  advertisedListeners: Listener[];
  /** Certificate and key of the SSL / SASL_SSL listeners; null when there are none. */
  tls: TlsMaterial | null;
  /** Security protocol and SASL mechanisms of each listener, by listener name. */
  listenerSecurity: ReadonlyMap<string, ListenerSecurity>;
  dataDir: string;
  numPartitions: number;
  autoCreateTopics: boolean;
  deleteTopicEnable: boolean;
  socketRequestMaxBytes: number;
  retentionCheckIntervalMs: number;
  /** producer.id.expiration.ms */
  producerIdExpirationMs: number;
  /** producer.id.expiration.check.interval.ms */
  producerIdExpirationCheckIntervalMs: number;
  groupInitialRebalanceDelayMs: number;
  offsetsRetentionMinutes: number;
  offsetsRetentionCheckIntervalMs: number;
  offsetMetadataMaxBytes: number;
  offsetsTopicSegmentBytes: number;
  groupMinSessionTimeoutMs: number;
  groupMaxSessionTimeoutMs: number;
  groupMaxSize: number;
  /** group.consumer.heartbeat.interval.ms */
  groupConsumerHeartbeatIntervalMs: number;
  /** group.consumer.session.timeout.ms */
  groupConsumerSessionTimeoutMs: number;
  /** group.consumer.assignors, normalised to short names ("uniform", "range"). */
  groupConsumerAssignors: string[];
  connectionsMaxIdleMs: number;
  rack: string | null;
  /** log.message.deep.validation.enable */
  messageDeepValidation: boolean;
  /** Raw values of every key that was set (file + overrides), for topic-config synonyms and DescribeConfigs. */
  raw: ReadonlyMap<string, string>;
  warnings: string[];
}

export interface ConfigSources {
  file?: string;
  overrides: string[];
}

/** Reads `[server.properties] [--override key=value ...]` the way kafka-server-start.sh does. */
export function parseServerArgs(argv: readonly string[]): ConfigSources {
  const overrides: string[] = [];
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--override") {
      const kv = argv[++i];
      if (kv === undefined) throw new ConfigError("--override needs key=value");
      overrides.push(kv);
    } else if (a.startsWith("--override=")) overrides.push(a.slice("--override=".length));
    else if (a.startsWith("-")) throw new ConfigError(`Unknown option ${a}; usage: bun run server [server.properties] [--override key=value ...]`);
    else if (file === undefined) file = a;
    else throw new ConfigError(`Only one properties file may be given (got ${file} and ${a})`);
  }
  return file === undefined ? { overrides } : { file, overrides };
}

export function loadBrokerConfig(sources: ConfigSources): BrokerConfig {
  const raw = new Map<string, string>();
  if (sources.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(sources.file, "utf8");
    } catch (e) {
      throw new ConfigError(`Cannot read config file ${sources.file}: ${(e as Error).message}`);
    }
    for (const p of parseProperties(text)) raw.set(p.key, p.value);
  }
  for (const kv of sources.overrides) {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw new ConfigError(`Override must be key=value, got "${kv}"`);
    raw.set(kv.slice(0, eq).trim(), kv.slice(eq + 1).trim());
  }
  return buildBrokerConfig(raw);
}

export function buildBrokerConfig(raw: Map<string, string>): BrokerConfig {
  const warnings: string[] = [];
  const typed = new Map<string, ConfigValue>();
  for (const [key, value] of raw) {
    if (PER_LISTENER_MECHANISMS.test(key)) continue; // read by securityKeys()
    const def = ALL_DEFS.get(key);
    if (!def) {
      warnings.push(IGNORED_KAFKA_KEYS.has(key) ? `config ${key} has no effect on a single-node broker; ignored` : `unknown config ${key}; ignored`);
      continue;
    }
    const parsed = parseConfigValue(def, value);
    if ("error" in parsed) throw new ConfigError(parsed.error);
    typed.set(key, parsed.value);
  }
  const get = (name: string): ConfigValue => {
    if (typed.has(name)) return typed.get(name)!;
    const def = ALL_DEFS.get(name)!;
    const parsed = parseConfigValue(def, def.defaultValue);
    return "value" in parsed ? parsed.value : null;
  };
  const { listeners, advertisedListeners, tls, listenerSecurity } = securityKeys(raw, get);
  const dirs = (get("log.dirs") as string[] | null) ?? [get("log.dir") as string];
  if (dirs.length !== 1) throw new ConfigError(`log.dirs: Bunka stores data in exactly one directory (got ${dirs.length})`);
  const nodeId = (typed.get("node.id") as number | undefined) ?? (typed.get("broker.id") as number | undefined) ?? 1;
  return {
    nodeId,
    listeners,
    advertisedListeners,
    tls,
    listenerSecurity,
    dataDir: dirs[0]!,
    numPartitions: get("num.partitions") as number,
    autoCreateTopics: get("auto.create.topics.enable") as boolean,
    deleteTopicEnable: get("delete.topic.enable") as boolean,
    socketRequestMaxBytes: get("socket.request.max.bytes") as number,
    retentionCheckIntervalMs: get("log.retention.check.interval.ms") as number,
    producerIdExpirationMs: get("producer.id.expiration.ms") as number,
    producerIdExpirationCheckIntervalMs: get("producer.id.expiration.check.interval.ms") as number,
    groupInitialRebalanceDelayMs: get("group.initial.rebalance.delay.ms") as number,
    offsetsRetentionMinutes: get("offsets.retention.minutes") as number,
    offsetsRetentionCheckIntervalMs: get("offsets.retention.check.interval.ms") as number,
    offsetMetadataMaxBytes: get("offset.metadata.max.bytes") as number,
    offsetsTopicSegmentBytes: get("offsets.topic.segment.bytes") as number,
    groupMinSessionTimeoutMs: get("group.min.session.timeout.ms") as number,
    groupMaxSessionTimeoutMs: get("group.max.session.timeout.ms") as number,
    groupMaxSize: get("group.max.size") as number,
    ...consumerGroupKeys(get),
    connectionsMaxIdleMs: get("connections.max.idle.ms") as number,
    rack: get("broker.rack") as string | null,
    messageDeepValidation: get("log.message.deep.validation.enable") as boolean,
    raw,
    warnings,
  };
}

/** The KIP-848 keys, checked together (Kafka wants the heartbeat interval below the session timeout). */
function consumerGroupKeys(get: (name: string) => ConfigValue): Pick<BrokerConfig, "groupConsumerHeartbeatIntervalMs" | "groupConsumerSessionTimeoutMs" | "groupConsumerAssignors"> {
  const heartbeat = get("group.consumer.heartbeat.interval.ms") as number;
  const session = get("group.consumer.session.timeout.ms") as number;
  if (heartbeat >= session) {
    throw new ConfigError(`group.consumer.heartbeat.interval.ms (${heartbeat}) must be lower than group.consumer.session.timeout.ms (${session})`);
  }
  const assignors: string[] = [];
  for (const item of get("group.consumer.assignors") as string[]) {
    const name = SERVER_ASSIGNOR_NAMES.get(item.trim());
    if (name === undefined) throw new ConfigError(`group.consumer.assignors: unknown assignor "${item}" (uniform and range are served)`);
    if (!assignors.includes(name)) assignors.push(name);
  }
  if (assignors.length === 0) throw new ConfigError("group.consumer.assignors: at least one assignor is required");
  return { groupConsumerHeartbeatIntervalMs: heartbeat, groupConsumerSessionTimeoutMs: session, groupConsumerAssignors: assignors };
}

/** Accepted spellings of the server-side assignors (short names and Kafka's class names). */
const SERVER_ASSIGNOR_NAMES: ReadonlyMap<string, string> = new Map([
  ["uniform", "uniform"],
  ["org.apache.kafka.coordinator.group.assignor.UniformAssignor", "uniform"],
  ["org.apache.kafka.coordinator.group.api.assignor.UniformAssignor", "uniform"],
  ["range", "range"],
  ["org.apache.kafka.coordinator.group.assignor.RangeAssignor", "range"],
  ["org.apache.kafka.coordinator.group.api.assignor.RangeAssignor", "range"],
]);

const PER_LISTENER_MECHANISMS = /^listener\.name\.([A-Za-z0-9_]+)\.sasl\.enabled\.mechanisms$/;
const SECURITY_PROTOCOLS: readonly SecurityProtocol[] = ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"];

/** listeners + advertised.listeners with their security protocols, SASL mechanisms and TLS material. */
function securityKeys(
  raw: ReadonlyMap<string, string>,
  get: (name: string) => ConfigValue,
): Pick<BrokerConfig, "listeners" | "advertisedListeners" | "tls" | "listenerSecurity"> {
  const protocolOf = new Map<string, SecurityProtocol>();
  for (const entry of get("listener.security.protocol.map") as string[]) {
    const [name, protocol] = entry.split(":").map((x) => x.trim().toUpperCase());
    if (!name || !protocol || !(SECURITY_PROTOCOLS as readonly string[]).includes(protocol)) {
      throw new ConfigError(`listener.security.protocol.map: "${entry}" is not NAME:PROTOCOL with PROTOCOL one of ${SECURITY_PROTOCOLS.join(", ")}`);
    }
    protocolOf.set(name, protocol as SecurityProtocol);
  }
  const mechanismsFor = (listenerName: string): string[] => {
    const override = raw.get(`listener.name.${listenerName.toLowerCase()}.sasl.enabled.mechanisms`);
    const list = override !== undefined ? override.split(",").map((m) => m.trim()).filter((m) => m !== "") : (get("sasl.enabled.mechanisms") as string[]);
    for (const m of list) {
      if (!(SERVED_MECHANISMS as readonly string[]).includes(m)) {
        throw new ConfigError(`sasl.enabled.mechanisms: ${m} is not served (Bunka serves ${SERVED_MECHANISMS.join(", ")})`);
      }
    }
    return list;
  };
  const listeners = parseListeners("listeners", get("listeners") as string[]);
  const names = new Set<string>();
  const listenerSecurity = new Map<string, ListenerSecurity>();
  for (const l of listeners) {
    if (names.has(l.name)) throw new ConfigError(`listeners: listener name ${l.name} appears twice`);
    names.add(l.name);
    const protocol = protocolOf.get(l.name);
    if (!protocol) throw new ConfigError(`listeners: no security protocol for listener ${l.name} in listener.security.protocol.map`);
    const saslMechanisms = protocol.startsWith("SASL_") ? mechanismsFor(l.name) : [];
    if (protocol.startsWith("SASL_") && saslMechanisms.length === 0) throw new ConfigError(`listener ${l.name}: no SASL mechanism enabled`);
    listenerSecurity.set(l.name, { protocol, saslMechanisms });
  }
  const advertisedRaw = get("advertised.listeners") as string[] | null;
  const advertisedByName = new Map((advertisedRaw ? parseListeners("advertised.listeners", advertisedRaw) : []).map((a) => [a.name, a]));
  for (const name of advertisedByName.keys()) {
    if (!names.has(name)) throw new ConfigError(`advertised.listeners: ${name} is not one of the listeners`);
  }
  const advertisedListeners = listeners.map((l) => {
    const a = advertisedByName.get(l.name);
    return a ? { ...l, host: a.host, port: a.port } : { ...l };
  });
  let tls: TlsMaterial | null = null;
  if ([...listenerSecurity.values()].some((x) => x.protocol === "SSL" || x.protocol === "SASL_SSL")) {
    try {
      tls = loadTlsMaterial((key) => (raw.has(key) ? (get(key) as string | null) : null));
    } catch (e) {
      if (e instanceof TlsConfigError) throw new ConfigError(e.message);
      throw e;
    }
  }
  return { listeners, advertisedListeners, tls, listenerSecurity };
}

function parseListeners(key: string, items: readonly string[]): Listener[] {
  if (items.length === 0) throw new ConfigError(`${key}: at least one listener is required`);
  return items.map((item) => {
    const m = /^([A-Za-z_][A-Za-z0-9_]*):\/\/(\[[^\]]*\]|[^:]*):(\d+)$/.exec(item);
    if (!m) throw new ConfigError(`${key}: "${item}" is not of the form NAME://host:port`);
    const port = Number(m[3]);
    if (port > 65535) throw new ConfigError(`${key}: port ${port} out of range`);
    // An empty host means "all interfaces" in Kafka; Bunka binds loopback unless told otherwise.
    const host = m[2] === "" ? "127.0.0.1" : m[2]!.replace(/^\[|\]$/g, "");
    return { name: m[1]!.toUpperCase(), host, port };
  });
}

/** The typed value of a broker key, set or default (for subsystems that read their own keys, e.g. tiering). */
export function brokerConfigValue(config: BrokerConfig, name: string): ConfigValue {
  const def = ALL_DEFS.get(name);
  if (!def) throw new Error(`unknown broker config ${name}`);
  const parsed = parseConfigValue(def, config.raw.get(name) ?? def.defaultValue);
  return "value" in parsed ? parsed.value : null;
}

/** Every broker key with its effective string value and whether it was set, for DescribeConfigs on the broker. */
export function describeBrokerConfig(config: BrokerConfig): { name: string; value: string | null; isDefault: boolean; def: ConfigDef }[] {
  const out: { name: string; value: string | null; isDefault: boolean; def: ConfigDef }[] = [];
  for (const def of ALL_DEFS.values()) {
    const set = config.raw.get(def.name);
    out.push({ name: def.name, value: set ?? def.defaultValue, isDefault: set === undefined, def });
  }
  return out;
}
