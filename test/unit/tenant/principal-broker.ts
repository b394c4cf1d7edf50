/**
 * An in-process broker whose requests can be sent as any principal (what SASL would establish),
 * for the tenant unit tests.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Broker } from "../../../src/broker/broker.ts";
import { buildBrokerConfig } from "../../../src/config/broker-config.ts";
import { decodeResponse, encodeRequest, type ApiCodec } from "../../../src/client/wire-client.ts";
import type { ConnectionContext } from "../../../src/net/connection.ts";
import { TenantStore } from "../../../src/tenant/tenant-store.ts";

export interface PrincipalBroker {
  broker: Broker;
  dataDir: string;
  /** Sends as `User:<user>` (null: no principal, i.e. a PLAINTEXT connection) on a connection of its own. */
  as(user: string | null, clientId?: string): <Req, Res>(codec: ApiCodec<Req, Res>, version: number, req: Req) => Promise<Res>;
  /** Shuts the broker down; removes the data dir unless `keepData`. */
  close(keepData?: boolean): Promise<void>;
}

export async function openPrincipalBroker(dataDir: string | null, overrides: Record<string, string> = {}): Promise<PrincipalBroker> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), "bunka-tenant-"));
  const raw = new Map<string, string>([["log.dirs", dir], ["listeners", "PLAINTEXT://127.0.0.1:0"], ...Object.entries(overrides)]);
  const broker = await Broker.open(buildBrokerConfig(raw), () => {});
  broker.setBoundPort("127.0.0.1", 19092);
  let correlationId = 1;
  let connId = 1;
  return {
    broker,
    dataDir: dir,
    as(user, clientId = "tenant-test") {
      const conn: ConnectionContext = { id: connId++, remoteAddress: "127.0.0.1", ...(user === null ? {} : { principal: `User:${user}` }) };
      return async (codec, version, req) => {
        const id = correlationId++;
        const frame = encodeRequest(codec as ApiCodec<unknown, unknown>, version, id, clientId, req).toBytes().subarray(4);
        const result = await broker.dispatch(frame, conn);
        if (result === null || result === "close") throw new Error(`no response: ${String(result)}`);
        const bytes = Buffer.concat(result);
        return decodeResponse(codec.apiKey, version, id, bytes.subarray(4), (r) => codec.readResponse(r, version));
      };
    },
    async close(keepData = false) {
      await broker.shutdown();
      if (!keepData) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The usual two-tenant setup: tenants `acme` and `globex` (one unit each), `members` maps users to
 * them (default: alice in acme, bob in globex), on a fresh data dir.
 */
export async function openTwoTenantBroker(overrides: Record<string, string> = {}, members: Record<string, "acme" | "globex"> = { alice: "acme", bob: "globex" }): Promise<PrincipalBroker> {
  const dir = mkdtempSync(join(tmpdir(), "bunka-tenant-"));
  const store = TenantStore.open(dir);
  store.add("acme", 1);
  store.add("globex", 1);
  for (const [user, tenant] of Object.entries(members)) store.assign(user, tenant);
  store.saveSync();
  return openPrincipalBroker(dir, overrides);
}
