/**
 * Tenant isolation figures (`bun bench/tenants.bench.ts`): tenant "flood" (1 capacity unit, whose
 * ingress is Q bytes/s) floods Produce at 10 × Q over SASL/PLAIN — paced, ignoring
 * throttle_time_ms, so only the broker's connection mute holds it back — while tenant "steady"
 * produces small batches at a steady pace. Both use a topic named "events" (each its own).
 * Reported: throttle accuracy (achieved flood rate / Q, acknowledged bytes over the measurement
 * interval) and isolation (steady's p99 produce latency during the flood / its p99 alone, same run).
 * test/integration/tenants-isolation.test.ts runs the same scenario with assertions.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as C from "../src/client/codecs.ts";
import { codec, WireClient } from "../src/client/wire-client.ts";
import { writeSaslHandshakeRequest } from "../src/protocol/generated/sasl-handshake-request.ts";
import { readSaslHandshakeResponse } from "../src/protocol/generated/sasl-handshake-response.ts";
import { writeSaslAuthenticateRequest } from "../src/protocol/generated/sasl-authenticate-request.ts";
import { readSaslAuthenticateResponse } from "../src/protocol/generated/sasl-authenticate-response.ts";
import { parseUsersArgs, runUsersCommand } from "../src/auth/users-cli.ts";
import { TenantStore } from "../src/tenant/tenant-store.ts";
import { freePort, startBunka } from "../test/support/broker.ts";
import { measureFloodIsolation, type FloodIsolationResult, type FloodPhases } from "./lib/flood-isolation.ts";

const SaslHandshake = codec(17, writeSaslHandshakeRequest, readSaslHandshakeResponse);
const SaslAuthenticate = codec(36, writeSaslAuthenticateRequest, readSaslAuthenticateResponse);

/** A wire client logged in with SASL/PLAIN (handshake v1, then one SaslAuthenticate). */
export async function saslPlainClient(host: string, port: number, clientId: string, user: string, password: string): Promise<WireClient> {
  const c = await WireClient.connect(host, port, clientId);
  const hs = await c.send(SaslHandshake, 1, { mechanism: "PLAIN" });
  if (hs.errorCode !== 0) throw new Error(`SaslHandshake: error ${hs.errorCode}`);
  const auth = await c.send(SaslAuthenticate, 2, { authBytes: new TextEncoder().encode(`\u0000${user}\u0000${password}`) });
  if (auth.errorCode !== 0) throw new Error(`SaslAuthenticate as ${user}: ${auth.errorMessage}`);
  return c;
}

export interface TenantScenarioOptions extends FloodPhases {
  /** Ingress of one unit = the flooding tenant's produce quota (it has 1 unit). */
  unitIngressBytesPerSec: number;
}

const TOPIC = "events";

export async function runTenantScenario(o: TenantScenarioOptions): Promise<FloodIsolationResult> {
  const dataDir = mkdtempSync(join(tmpdir(), "bunka-tenant-bench-"));
  const tenants = TenantStore.open(dataDir);
  tenants.add("flood", 1);
  tenants.add("steady", 4);
  tenants.saveSync();
  for (const [user, tenant] of [["flooder", "flood"], ["steady-user", "steady"]]) {
    runUsersCommand(parseUsersArgs(["add", user!, "--password", "pw", "--iterations", "4096", "--tenant", tenant!, "--data-dir", dataDir], {}));
  }
  const port = freePort();
  const broker = await startBunka({
    dataDir, name: "tenant-bench", port,
    // Flush-interval mode, as in bench/quota.bench.ts: acks=1 waits for the write, not an fsync.
    overrides: { listeners: `SASL_PLAINTEXT://127.0.0.1:${port}`, "bunka.tenant.unit.ingress.bytes.per.sec": String(o.unitIngressBytesPerSec), "log.flush.interval.ms": "1000" },
  });
  try {
    const steady = await saslPlainClient(broker.host, broker.port, "steady", "steady-user", "pw");
    const flood = await saslPlainClient(broker.host, broker.port, "flood", "flooder", "pw");
    for (const c of [steady, flood]) {
      const created = await c.send(C.CreateTopics, 7, {
        topics: [{ name: TOPIC, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false,
      });
      if (created.topics[0]!.errorCode !== 0) throw new Error(`create ${TOPIC}: ${created.topics[0]!.errorCode}`);
    }
    try {
      return await measureFloodIsolation({ client: steady, topic: TOPIC }, { client: flood, topic: TOPIC }, o.unitIngressBytesPerSec, o);
    } finally {
      steady.close();
      flood.close();
    }
  } finally {
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export const DEFAULT_TENANT_SCENARIO: TenantScenarioOptions = {
  unitIngressBytesPerSec: 1024 * 1024,
  floodBatchBytes: 64 * 1024,
  warmupMs: 2000,
  measureMs: 10_000,
  soloMs: 3000,
  steadyIntervalMs: 5,
};

if (import.meta.main) {
  const r = await runTenantScenario(DEFAULT_TENANT_SCENARIO);
  const mb = (x: number) => (x / 1048576).toFixed(3);
  console.log(`tenant quota ${mb(r.quotaBytesPerSec)} MiB/s (1 unit), flood offered 10x, achieved ${mb(r.achievedBytesPerSec)} MiB/s -> accuracy ${r.accuracy.toFixed(3)} (max throttle_time_ms ${r.maxThrottleTimeMs})`);
  console.log(`steady tenant p50/p99 solo ${r.solo.p50.toFixed(3)}/${r.solo.p99.toFixed(3)} ms (n=${r.solo.n}), during flood ${r.flooded.p50.toFixed(3)}/${r.flooded.p99.toFixed(3)} ms (n=${r.flooded.n}) -> p99 ratio ${r.isolation.toFixed(2)}`);
}
