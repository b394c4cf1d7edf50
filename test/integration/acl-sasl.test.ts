// ACL enforcement with real clients over SASL_PLAINTEXT: kcat (librdkafka) as an ungranted user is
// refused with Kafka's topic authorization error and writes nothing; Kafka's own kafka-acls tool
// (org.apache.kafka.tools.AclCommand, the Java Admin client) grants READ/WRITE, then it works.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startBunka, type BrokerHandle } from "../support/broker.ts";
import { java, kcat, run } from "../support/tools.ts";

const ADMIN_PW = "adm1n-Secret";
const BOB_PW = "b0b-Secret";
let dir: string;
let broker: BrokerHandle;
let bs = "";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "bunka-acl-it-"));
  const dataDir = join(dir, "data");
  await run(["bun", "run", "users", "--", "add", "admin", "--password", ADMIN_PW, "--data-dir", dataDir]);
  await run(["bun", "run", "users", "--", "add", "bob", "--password", BOB_PW, "--data-dir", dataDir]);
  const port = freePort();
  bs = `127.0.0.1:${port}`;
  broker = await startBunka({
    dataDir,
    name: "bunka-acl",
    overrides: {
      listeners: `SASL_PLAINTEXT://127.0.0.1:${port}`,
      "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
      "super.users": "User:admin",
    },
  });
  writeFileSync(join(dir, "admin.properties"), [
    "security.protocol=SASL_PLAINTEXT",
    "sasl.mechanism=SCRAM-SHA-512",
    `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${ADMIN_PW}";`,
    "",
  ].join("\n"));
});

afterAll(async () => {
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const as = (user: string, password: string) => [
  "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=PLAIN", "-X", `sasl.username=${user}`, "-X", `sasl.password=${password}`,
];
const admin = () => as("admin", ADMIN_PW);
const bob = () => as("bob", BOB_PW);

function aclCommand(args: string[]) {
  return java("org.apache.kafka.tools.AclCommand", ["--bootstrap-server", bs, "--command-config", join(dir, "admin.properties"), ...args], {
    timeoutMs: 60_000, jvmArgs: ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"],
  });
}

async function consumeAll(who: string[], topic: string) {
  return kcat(bs, [...who, "-C", "-t", topic, "-o", "beginning", "-e", "-f", "%s\n"], { timeoutMs: 30_000, allowFailure: true });
}

describe("ACLs over SASL_PLAINTEXT", () => {
  test("super user produces; a user without ACLs is refused on produce and consume, nothing written", async () => {
    await kcat(bs, [...admin(), "-P", "-t", "orders"], { stdin: "seed\n", timeoutMs: 30_000 });
    const produce = await kcat(bs, [...bob(), "-P", "-t", "orders", "-X", "message.timeout.ms=5000"], { stdin: "evil\n", timeoutMs: 30_000, allowFailure: true });
    expect(produce.exitCode).not.toBe(0);
    expect(produce.stderr).toMatch(/[Tt]opic authorization failed|TOPIC_AUTHORIZATION_FAILED/);
    const consume = await consumeAll(bob(), "orders");
    expect(consume.exitCode).not.toBe(0);
    expect(consume.stderr).toMatch(/[Tt]opic authorization failed|TOPIC_AUTHORIZATION_FAILED/);
    const seen = await consumeAll(admin(), "orders");
    expect(seen.stdout.trim().split("\n")).toEqual(["seed"]);
  }, 90_000);

  test("kafka-acls grants WRITE and READ; then bob produces and consumes; --list shows them; --remove revokes", async () => {
    const add = await aclCommand(["--add", "--allow-principal", "User:bob", "--operation", "Write", "--operation", "Read", "--topic", "orders"]);
    expect(add.exitCode).toBe(0);
    const list = await aclCommand(["--list", "--topic", "orders"]);
    expect(list.stdout).toContain("principal=User:bob");
    expect(list.stdout).toMatch(/operation=WRITE/);
    expect(list.stdout).toMatch(/operation=READ/);
    await kcat(bs, [...bob(), "-P", "-t", "orders"], { stdin: "from-bob\n", timeoutMs: 30_000 });
    const got = await consumeAll(bob(), "orders");
    expect(got.exitCode).toBe(0);
    expect(got.stdout.trim().split("\n")).toEqual(["seed", "from-bob"]);
    const remove = await aclCommand(["--remove", "--force", "--allow-principal", "User:bob", "--operation", "Write", "--topic", "orders"]);
    expect(remove.exitCode).toBe(0);
    const again = await kcat(bs, [...bob(), "-P", "-t", "orders", "-X", "message.timeout.ms=5000"], { stdin: "late\n", timeoutMs: 30_000, allowFailure: true });
    expect(again.exitCode).not.toBe(0);
    expect((await consumeAll(bob(), "orders")).stdout.trim().split("\n")).toEqual(["seed", "from-bob"]);
  }, 180_000);
});
