// Tenants (logical clusters) with real clients over TCP: two tenants use the same topic and group
// names and see only their own data and resources — kcat with SASL/SCRAM, the Java client with
// SASL/PLAIN and SASL/SCRAM over TLS, Kafka's group and config tools — while a user without a
// tenant sees the internal (prefixed) names. Also: `bun run capacity` measures the broker, tenant
// admission refuses units beyond it, and a tenant's partition limit refuses CreateTopics.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startBunka, type BrokerHandle } from "../support/broker.ts";
import { java, javaClient, kcat, run, topicCommand } from "../support/tools.ts";
import { readCapacity } from "../../src/tenant/capacity-store.ts";

const PW = { alice: "al1ce-Secret", bob: "b0b-Secret", root: "r00t-Secret" };
let dir: string;
let dataDir: string;
let configFile: string;
let broker: BrokerHandle;
const ports = { sasl: 0, saslSsl: 0, plain: 0 };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "bunka-tenants-it-"));
  dataDir = join(dir, "data");
  await run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
    "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"]);
  writeFileSync(join(dir, "keystore.pem"), readFileSync(join(dir, "key.pem"), "utf8") + readFileSync(join(dir, "cert.pem"), "utf8"));
  ports.sasl = freePort();
  ports.saslSsl = freePort();
  ports.plain = freePort();
  configFile = join(dir, "server.properties");
  writeFileSync(configFile, [
    `log.dirs=${dataDir}`,
    `listeners=SASL_PLAINTEXT://127.0.0.1:${ports.sasl},SASL_SSL://127.0.0.1:${ports.saslSsl},PLAINTEXT://127.0.0.1:${ports.plain}`,
    "ssl.keystore.type=PEM",
    `ssl.keystore.location=${join(dir, "keystore.pem")}`,
    // Small units, so the limits are reachable in a test.
    "bunka.tenant.unit.partitions=10",
    "bunka.tenant.unit.ingress.bytes.per.sec=65536",
    "bunka.tenant.unit.egress.bytes.per.sec=65536",
    "bunka.tenant.unit.requests.per.sec=10",
    "",
  ].join("\n"));
  // Offline setup, broker stopped: measure, create tenants, bootstrap users (as kafka-storage format would).
  await run(["bun", "run", "capacity", "--", "--config", configFile, "--seconds", "1"], { timeoutMs: 60_000 });
  await run(["bun", "run", "tenants", "--", "add", "acme", "--units", "2", "--config", configFile]);
  await run(["bun", "run", "tenants", "--", "add", "globex", "--units", "1", "--config", configFile]);
  await run(["bun", "run", "users", "--", "add", "alice", "--password", PW.alice, "--tenant", "acme", "--config", configFile]);
  await run(["bun", "run", "users", "--", "add", "bob", "--password", PW.bob, "--tenant", "globex", "--config", configFile]);
  await run(["bun", "run", "users", "--", "add", "root", "--password", PW.root, "--config", configFile]);
  broker = await startBunka({ dataDir, configFile, name: "bunka-tenants", overrides: { listeners: `SASL_PLAINTEXT://127.0.0.1:${ports.sasl},SASL_SSL://127.0.0.1:${ports.saslSsl},PLAINTEXT://127.0.0.1:${ports.plain}` } });
}, 120_000);

afterAll(async () => {
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const scram = (user: keyof typeof PW) => [
  "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=SCRAM-SHA-256", "-X", `sasl.username=${user}`, "-X", `sasl.password=${PW[user]}`,
];
const saslBs = () => `127.0.0.1:${ports.sasl}`;
const plainBs = () => `127.0.0.1:${ports.plain}`;

async function consumeAll(user: keyof typeof PW, topic: string): Promise<string[]> {
  const out = await kcat(saslBs(), [...scram(user), "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%s\n"], { timeoutMs: 30_000 });
  return out.stdout.split("\n").filter((l) => l !== "");
}

async function topicsSeenBy(user: keyof typeof PW | null): Promise<string[]> {
  const md = user === null ? await kcat(plainBs(), ["-L", "-J"], { timeoutMs: 30_000 }) : await kcat(saslBs(), [...scram(user), "-L", "-J"], { timeoutMs: 30_000 });
  return (JSON.parse(md.stdout).topics as { topic: string }[]).map((t) => t.topic).sort();
}

/** A client.properties for Kafka's tools as `user` over SASL_SSL with SCRAM-SHA-512. */
function commandConfig(user: keyof typeof PW): string {
  const file = join(dir, `${user}.properties`);
  writeFileSync(file, [
    "security.protocol=SASL_SSL", "sasl.mechanism=SCRAM-SHA-512",
    `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${user}" password="${PW[user]}";`,
    "ssl.truststore.type=PEM", `ssl.truststore.location=${join(dir, "cert.pem")}`, "ssl.endpoint.identification.algorithm=", "",
  ].join("\n"));
  return file;
}
const sslBs = () => `127.0.0.1:${ports.saslSsl}`;
const tool = { jvmArgs: ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"], timeoutMs: 90_000 };

describe("capacity and admission", () => {
  test("`bun run capacity` stored a measurement; admission refuses units beyond it", async () => {
    const cap = readCapacity(dataDir)!;
    expect(cap.ingressBytesPerSec).toBeGreaterThan(0);
    expect(cap.requestsPerSec).toBeGreaterThan(0);
    // 10 requests/s per unit: the measured request rate bounds the units.
    const tooMany = String(Math.ceil(cap.requestsPerSec / 10) + 1);
    const res = await run(["bun", "run", "tenants", "--", "add", "huge", "--units", tooMany, "--config", configFile], { allowFailure: true });
    expect(res.exitCode).toBe(3);
    expect(res.stderr).toContain("over capacity");
    expect(res.stderr).toContain("requests");
    const grow = await run(["bun", "run", "tenants", "--", "set-units", "globex", "--units", tooMany, "--config", configFile], { allowFailure: true });
    expect(grow.exitCode).toBe(3);
    const list = await run(["bun", "run", "tenants", "--", "list", "--config", configFile]);
    expect(list.stdout).toContain("acme\tid=1\tunits=2");
    expect(list.stdout).toContain("globex\tid=2\tunits=1");
    expect(list.stdout).not.toContain("huge");
  }, 60_000);
});

describe("kcat with SASL/SCRAM", () => {
  test("same topic name, separate data; Metadata shows each tenant only its own topics", async () => {
    await kcat(saslBs(), [...scram("alice"), "-P", "-t", "shared"], { stdin: "a1\na2\na3\n", timeoutMs: 30_000 });
    await kcat(saslBs(), [...scram("bob"), "-P", "-t", "shared"], { stdin: "b1\nb2\n", timeoutMs: 30_000 });
    await kcat(saslBs(), [...scram("bob"), "-P", "-t", "bob-private"], { stdin: "x\n", timeoutMs: 30_000 });
    expect(await consumeAll("alice", "shared")).toEqual(["a1", "a2", "a3"]);
    expect(await consumeAll("bob", "shared")).toEqual(["b1", "b2"]);
    expect(await topicsSeenBy("alice")).toEqual(["shared"]);
    expect(await topicsSeenBy("bob")).toEqual(["bob-private", "shared"]);
    // No tenant: the global namespace, with the internal names.
    expect(await topicsSeenBy(null)).toEqual(["__lc-1.shared", "__lc-2.bob-private", "__lc-2.shared"]);
    // A user without a tenant over SASL sees the same.
    expect(await topicsSeenBy("root")).toEqual(["__lc-1.shared", "__lc-2.bob-private", "__lc-2.shared"]);
  }, 90_000);

  test("over TLS (SASL_SSL, SCRAM-SHA-512): the same isolation", async () => {
    const tls = (user: keyof typeof PW) => [
      "-X", "security.protocol=SASL_SSL", "-X", "sasl.mechanisms=SCRAM-SHA-512", "-X", `sasl.username=${user}`, "-X", `sasl.password=${PW[user]}`,
      "-X", `ssl.ca.location=${join(dir, "cert.pem")}`, "-X", "ssl.endpoint.identification.algorithm=none",
    ];
    await kcat(sslBs(), [...tls("bob"), "-P", "-t", "shared"], { stdin: "b3\n", timeoutMs: 30_000 });
    const read = async (user: keyof typeof PW) =>
      (await kcat(sslBs(), [...tls(user), "-C", "-t", "shared", "-o", "beginning", "-e", "-q", "-f", "%s\n"], { timeoutMs: 30_000 })).stdout.split("\n").filter((l) => l !== "");
    expect(await read("alice")).toEqual(["a1", "a2", "a3"]);
    expect(await read("bob")).toEqual(["b1", "b2", "b3"]);
    const md = await kcat(sslBs(), [...tls("alice"), "-L", "-J"], { timeoutMs: 30_000 });
    expect((JSON.parse(md.stdout).topics as { topic: string }[]).map((t) => t.topic)).toEqual(["shared"]);
  }, 90_000);
});

describe("Java client over SASL_SSL", () => {
  const ssl = () => ["--prop", "security.protocol=SASL_SSL", "--prop", "ssl.truststore.type=PEM", "--prop", `ssl.truststore.location=${join(dir, "cert.pem")}`, "--prop", "ssl.endpoint.identification.algorithm="];
  const jaas = (module: string, user: keyof typeof PW) => `${module} required username="${user}" password="${PW[user]}";`;

  test("PLAIN (alice) and SCRAM-SHA-512 (bob) on the same topic name: each reads back exactly its own records", async () => {
    const a = await javaClient("AuthClient", sslBs(), [...ssl(), "--prop", "sasl.mechanism=PLAIN",
      "--prop", `sasl.jaas.config=${jaas("org.apache.kafka.common.security.plain.PlainLoginModule", "alice")}`, "--topic", "java-shared", "--records", "30"], { timeoutMs: 90_000 });
    expect(a.summary.consumed).toBe(30);
    const b = await javaClient("AuthClient", sslBs(), [...ssl(), "--prop", "sasl.mechanism=SCRAM-SHA-512",
      "--prop", `sasl.jaas.config=${jaas("org.apache.kafka.common.security.scram.ScramLoginModule", "bob")}`, "--topic", "java-shared", "--records", "20"], { timeoutMs: 90_000 });
    expect(b.summary.consumed).toBe(20);
    // Both wrote v0..vN: only the counts tell the topics apart.
    expect((await consumeAll("alice", "java-shared")).length).toBe(30);
    expect((await consumeAll("bob", "java-shared")).length).toBe(20);
  }, 200_000);

  test("KIP-848 consumer groups (group.protocol=consumer), same group id in both tenants: each consumes exactly its own records", async () => {
    const props = (user: keyof typeof PW) => ["--prop", "sasl.mechanism=SCRAM-SHA-512",
      "--prop", `sasl.jaas.config=${jaas("org.apache.kafka.common.security.scram.ScramLoginModule", user)}`, ...ssl()];
    const consume = (user: keyof typeof PW) => javaClient("GroupConsume", sslBs(), [
      "--topic", "java-shared", "--group", "j848", "--group-protocol", "consumer", "--idle-exit-ms", "4000", "--max-ms", "60000",
      "--prop", "auto.offset.reset=earliest", ...props(user)], { timeoutMs: 90_000 });
    const [a, b] = await Promise.all([consume("alice"), consume("bob")]);
    expect(a.summary.consumed).toBe(30);
    expect(b.summary.consumed).toBe(20);
  }, 200_000);

  test("ListGroups (kafka-consumer-groups --list) shows each tenant only its groups, same group id in both", async () => {
    for (const user of ["alice", "bob"] as const) {
      await kcat(saslBs(), [...scram(user), "-G", "billing", "-o", "beginning", "-e", "-q", "-X", "enable.auto.commit=true", "-X", "auto.commit.interval.ms=100", "shared"], { timeoutMs: 60_000 });
    }
    await kcat(saslBs(), [...scram("bob"), "-G", "bob-only-group", "-o", "beginning", "-e", "-q", "bob-private"], { timeoutMs: 60_000 });
    const list = async (user: keyof typeof PW) => {
      const res = await java("org.apache.kafka.tools.consumer.group.ConsumerGroupCommand", ["--bootstrap-server", sslBs(), "--command-config", commandConfig(user), "--list"], tool);
      return res.stdout.split("\n").map((l) => l.trim()).filter((l) => l !== "").sort();
    };
    expect(await list("alice")).toEqual(["billing", "j848"]);
    expect(await list("bob")).toEqual(["billing", "bob-only-group", "j848"]);
    const described = await java("org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
      ["--bootstrap-server", sslBs(), "--command-config", commandConfig("alice"), "--describe", "--group", "billing", "--offsets"], tool);
    expect(described.stdout).toContain("shared");
    expect(described.stdout).not.toContain("__lc-");
    expect(described.stdout).toMatch(/billing\s+shared\s+0\s+3\s+3\s+0/); // alice's 3 records, not bob's 2
  }, 240_000);

  test("DescribeConfigs (kafka-configs --describe, all topics) shows each tenant only its topics", async () => {
    const describe = async (user: keyof typeof PW) =>
      (await java("kafka.admin.ConfigCommand", ["--bootstrap-server", sslBs(), "--command-config", commandConfig(user), "--entity-type", "topics", "--describe"], tool)).stdout;
    const alice = await describe("alice");
    expect(alice).toContain("Dynamic configs for topic shared are:");
    expect(alice).toContain("Dynamic configs for topic java-shared are:");
    expect(alice).not.toContain("bob-private");
    expect(alice).not.toContain("__lc-");
    const bob = await describe("bob");
    expect(bob).toContain("Dynamic configs for topic bob-private are:");
  }, 200_000);

  test("partition limit: kafka-topics --create beyond the tenant's partitions fails with Kafka's policy error", async () => {
    // globex: 1 unit x 10 partitions; it has 3 topics of 1 partition.
    const res = await topicCommand(sslBs(), ["--command-config", commandConfig("bob"), "--create", "--topic", "too-big", "--partitions", "8"], { allowFailure: true, timeoutMs: 90_000 });
    expect(res.exitCode).not.toBe(0);
    expect(res.stdout + res.stderr).toContain("PolicyViolationException");
    expect(res.stdout + res.stderr).toContain("limit of 10");
    const ok = await topicCommand(sslBs(), ["--command-config", commandConfig("bob"), "--create", "--topic", "fits", "--partitions", "7"], { timeoutMs: 90_000 });
    expect(ok.exitCode).toBe(0);
    expect(await topicsSeenBy("bob")).toContain("fits");
    expect(await topicsSeenBy("alice")).not.toContain("fits");
  }, 200_000);
});
