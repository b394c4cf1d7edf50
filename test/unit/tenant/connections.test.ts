// Per-tenant connection limit (units x bunka.tenant.unit.connections): a tenant's connection beyond
// it is closed at its first request; a closed connection gives its slot back; other tenants and the
// global namespace are not affected.
import { afterAll, beforeAll, expect, test } from "bun:test";
import * as C from "../../../src/client/codecs.ts";
import { encodeRequest, type ApiCodec } from "../../../src/client/wire-client.ts";
import type { ConnectionContext } from "../../../src/net/connection.ts";
import { openTwoTenantBroker, type PrincipalBroker } from "./principal-broker.ts";

let pb: PrincipalBroker;
let nextConn = 1000;

beforeAll(async () => {
  pb = await openTwoTenantBroker({ "bunka.tenant.unit.connections": "2" });
});

afterAll(async () => {
  await pb?.close();
});

function connectionAs(user: string | null): ConnectionContext {
  return { id: nextConn++, remoteAddress: "127.0.0.1", ...(user === null ? {} : { principal: `User:${user}` }) };
}

/** "ok" when the broker answered a Metadata request on `conn`, "close" when it closed it. */
async function metadataOn(conn: ConnectionContext): Promise<"ok" | "close"> {
  const frame = encodeRequest(C.Metadata as ApiCodec<unknown, unknown>, 12, 1, "conn-test", { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }).toBytes().subarray(4);
  const result = await pb.broker.dispatch(frame, conn);
  if (result === "close") return "close";
  expect(result).not.toBeNull();
  return "ok";
}

test("a tenant's connections beyond its units are closed; a close frees a slot; others unaffected", async () => {
  const a1 = connectionAs("alice");
  const a2 = connectionAs("alice");
  const a3 = connectionAs("alice");
  expect(await metadataOn(a1)).toBe("ok");
  expect(await metadataOn(a2)).toBe("ok");
  expect(await metadataOn(a1)).toBe("ok"); // a counted connection keeps working
  expect(await metadataOn(a3)).toBe("close"); // the third of a 2-connection tenant
  // Another tenant and the global namespace have their own (or no) limits.
  expect(await metadataOn(connectionAs("bob"))).toBe("ok");
  for (let i = 0; i < 3; i++) expect(await metadataOn(connectionAs(null))).toBe("ok");
  // Closing one of alice's connections lets a new one in.
  pb.broker.onConnectionClosed(a2);
  pb.broker.onConnectionClosed(a3); // never counted: releasing it changes nothing
  expect(await metadataOn(connectionAs("alice"))).toBe("ok");
  expect(await metadataOn(connectionAs("alice"))).toBe("close");
});
