// SASL (PLAIN, SCRAM-SHA-256/512) and TLS listeners with real clients: kcat (librdkafka) and the
// Java client (AuthClient.java), against one broker with four listeners.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startBunka, type BrokerHandle } from "../support/broker.ts";
import { javaClient, kcat, run } from "../support/tools.ts";

const PASSWORD = "al1ce-Secret";
let dir: string;
let broker: BrokerHandle;
const ports = { sasl: 0, saslSsl: 0, ssl: 0, plain: 0 };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "bunka-auth-it-"));
  const dataDir = join(dir, "data");
  await run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
    "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"]);
  writeFileSync(join(dir, "keystore.pem"), readFileSync(join(dir, "key.pem"), "utf8") + readFileSync(join(dir, "cert.pem"), "utf8"));
  // Bootstrap the first user offline, as `kafka-storage format --add-scram` would.
  await run(["bun", "run", "users", "--", "add", "alice", "--password", PASSWORD, "--data-dir", dataDir]);
  ports.sasl = freePort();
  ports.saslSsl = freePort();
  ports.ssl = freePort();
  ports.plain = freePort();
  broker = await startBunka({
    dataDir,
    name: "bunka-auth",
    overrides: {
      listeners: `SASL_PLAINTEXT://127.0.0.1:${ports.sasl},SASL_SSL://127.0.0.1:${ports.saslSsl},SSL://127.0.0.1:${ports.ssl},PLAINTEXT://127.0.0.1:${ports.plain}`,
      "ssl.keystore.type": "PEM",
      "ssl.keystore.location": join(dir, "keystore.pem"),
    },
  });
});

afterAll(async () => {
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const saslArgs = (mech: string, user: string, password: string) => [
  "-X", "security.protocol=SASL_PLAINTEXT", "-X", `sasl.mechanisms=${mech}`, "-X", `sasl.username=${user}`, "-X", `sasl.password=${password}`,
];

describe("kcat", () => {
  test("SCRAM-SHA-256 over SASL_PLAINTEXT: produce and consume", async () => {
    const bs = `127.0.0.1:${ports.sasl}`;
    await kcat(bs, [...saslArgs("SCRAM-SHA-256", "alice", PASSWORD), "-P", "-t", "scram-topic"], { stdin: "one\ntwo\nthree\n", timeoutMs: 30_000 });
    const out = await kcat(bs, [...saslArgs("SCRAM-SHA-256", "alice", PASSWORD), "-C", "-t", "scram-topic", "-o", "beginning", "-e", "-f", "%s\n"], { timeoutMs: 30_000 });
    expect(out.stdout.trim().split("\n")).toEqual(["one", "two", "three"]);
  });

  test("wrong password: authentication error, nothing written", async () => {
    const bs = `127.0.0.1:${ports.sasl}`;
    const res = await kcat(bs, [...saslArgs("SCRAM-SHA-256", "alice", "not-it"), "-P", "-t", "never-topic"], {
      stdin: "x\n", timeoutMs: 30_000, allowFailure: true,
    });
    expect(res.exitCode).not.toBe(0);
    expect(res.stderr).toContain("Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256");
    const md = await kcat(`127.0.0.1:${ports.plain}`, ["-L", "-J"], { timeoutMs: 30_000 });
    const names = (JSON.parse(md.stdout).topics as { topic: string }[]).map((t) => t.topic);
    expect(names).toContain("scram-topic");
    expect(names).not.toContain("never-topic");
  });

  test("SSL listener with ssl.ca.location; Metadata advertises the SSL endpoint", async () => {
    const bs = `127.0.0.1:${ports.ssl}`;
    const tls = ["-X", "security.protocol=SSL", "-X", `ssl.ca.location=${join(dir, "cert.pem")}`, "-X", "ssl.endpoint.identification.algorithm=none"];
    await kcat(bs, [...tls, "-P", "-t", "tls-topic"], { stdin: "a\nb\n", timeoutMs: 30_000 });
    const out = await kcat(bs, [...tls, "-C", "-t", "tls-topic", "-o", "beginning", "-e", "-f", "%s\n"], { timeoutMs: 30_000 });
    expect(out.stdout.trim().split("\n")).toEqual(["a", "b"]);
    const md = await kcat(bs, [...tls, "-L", "-J"], { timeoutMs: 30_000 });
    expect(JSON.parse(md.stdout).brokers[0].name).toBe(`127.0.0.1:${ports.ssl}`);
  });
});

describe("Java client over SASL_SSL", () => {
  const sslProps = () => [
    "--prop", "security.protocol=SASL_SSL",
    "--prop", "ssl.truststore.type=PEM",
    "--prop", `ssl.truststore.location=${join(dir, "cert.pem")}`,
    "--prop", "ssl.endpoint.identification.algorithm=",
  ];
  const jaas = (module: string, user: string, password: string) => `${module} required username="${user}" password="${password}";`;

  test("PLAIN: upserts a SCRAM-SHA-512 user via the Admin API, produces and consumes", async () => {
    const { summary } = await javaClient("AuthClient", `127.0.0.1:${ports.saslSsl}`, [
      ...sslProps(), "--prop", "sasl.mechanism=PLAIN",
      "--prop", `sasl.jaas.config=${jaas("org.apache.kafka.common.security.plain.PlainLoginModule", "alice", PASSWORD)}`,
      "--upsert-user", "bob:b0b-Secret", "--topic", "java-plain", "--records", "50",
    ], { timeoutMs: 90_000 });
    expect(summary.consumed).toBe(50);
  });

  test("SCRAM-SHA-512 as the user created over the wire", async () => {
    const { summary } = await javaClient("AuthClient", `127.0.0.1:${ports.saslSsl}`, [
      ...sslProps(), "--prop", "sasl.mechanism=SCRAM-SHA-512",
      "--prop", `sasl.jaas.config=${jaas("org.apache.kafka.common.security.scram.ScramLoginModule", "bob", "b0b-Secret")}`,
      "--topic", "java-scram", "--records", "50",
    ], { timeoutMs: 90_000 });
    expect(summary.consumed).toBe(50);
    const stored = readFileSync(join(broker.dataDir, "bunka-scram-credentials.msgpack"));
    expect(stored.includes("b0b-Secret")).toBe(false);
    expect(stored.includes(PASSWORD)).toBe(false);
  });
});
