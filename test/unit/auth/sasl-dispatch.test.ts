import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { pbkdf2Sync } from "node:crypto";
import * as C from "../../../src/client/codecs.ts";
import { codec, decodeResponse, encodeRequest, type ApiCodec } from "../../../src/client/wire-client.ts";
import { AuthSession } from "../../../src/auth/auth-session.ts";
import { authServiceFor } from "../../../src/auth/auth-service.ts";
import type { ListenerBinding } from "../../../src/auth/listener-binding.ts";
import type { ConnectionContext } from "../../../src/net/connection.ts";
import { writeSaslHandshakeRequest } from "../../../src/protocol/generated/sasl-handshake-request.ts";
import { readSaslHandshakeResponse } from "../../../src/protocol/generated/sasl-handshake-response.ts";
import { writeSaslAuthenticateRequest } from "../../../src/protocol/generated/sasl-authenticate-request.ts";
import { readSaslAuthenticateResponse } from "../../../src/protocol/generated/sasl-authenticate-response.ts";
import { writeDescribeUserScramCredentialsRequest } from "../../../src/protocol/generated/describe-user-scram-credentials-request.ts";
import { readDescribeUserScramCredentialsResponse } from "../../../src/protocol/generated/describe-user-scram-credentials-response.ts";
import { writeAlterUserScramCredentialsRequest } from "../../../src/protocol/generated/alter-user-scram-credentials-request.ts";
import { readAlterUserScramCredentialsResponse } from "../../../src/protocol/generated/alter-user-scram-credentials-response.ts";
import { parseUsersArgs, runUsersCommand } from "../../../src/auth/users-cli.ts";
import { openInProcessBroker, type InProcessBroker } from "../../support/in-process.ts";
import { TestScramClient } from "./scram-client.ts";

const SaslHandshake = codec(17, writeSaslHandshakeRequest, readSaslHandshakeResponse);
const SaslAuthenticate = codec(36, writeSaslAuthenticateRequest, readSaslAuthenticateResponse);
const DescribeScram = codec(50, writeDescribeUserScramCredentialsRequest, readDescribeUserScramCredentialsResponse);
const AlterScram = codec(51, writeAlterUserScramCredentialsRequest, readAlterUserScramCredentialsResponse);

const enc = new TextEncoder();
const dec = new TextDecoder();
const MECHS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"];
let b: InProcessBroker;

beforeAll(async () => {
  b = await openInProcessBroker();
  runUsersCommand(parseUsersArgs(["add", "alice", "--password", "s3cret-pw", "--data-dir", b.dataDir], {}));
});
afterAll(async () => {
  await b.close();
});

/** A connection on a SASL_PLAINTEXT listener, driven through broker.dispatch. */
function saslConn(id: number) {
  const listener: ListenerBinding = { name: "SASL_PLAINTEXT", securityProtocol: "SASL_PLAINTEXT", saslMechanisms: MECHS, advertised: { host: "127.0.0.1", port: 29094 } };
  const state = { closeRequested: false, correlationId: 1 };
  const conn: ConnectionContext & { auth: AuthSession } = {
    id, remoteAddress: "127.0.0.1", listener, auth: new AuthSession(true, MECHS),
    closeAfterResponses: () => void (state.closeRequested = true),
  };
  const call = async <Req, Res>(c: ApiCodec<Req, Res>, version: number, req: Req): Promise<Res | "close"> => {
    const cid = state.correlationId++;
    const frame = encodeRequest(c as ApiCodec<unknown, unknown>, version, cid, "unit", req).toBytes().subarray(4);
    const result = await b.broker.dispatch(frame, conn);
    if (result === null || result === "close") return "close";
    const bytes = Buffer.concat(result);
    return decodeResponse(c.apiKey, version, cid, bytes.subarray(4), (r) => c.readResponse(r, version));
  };
  return { conn, state, call };
}

const metadataReq = { topics: null, allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false };

async function scramLogin(s: ReturnType<typeof saslConn>, mech: "SCRAM-SHA-256" | "SCRAM-SHA-512", password: string) {
  expect(await s.call(SaslHandshake, 1, { mechanism: mech })).toEqual({ errorCode: 0, mechanisms: MECHS });
  const client = new TestScramClient(mech === "SCRAM-SHA-256" ? "sha256" : "sha512", "alice", password);
  const first = (await s.call(SaslAuthenticate, 2, { authBytes: enc.encode(client.first()) })) as { errorCode: number; authBytes: Uint8Array };
  expect(first.errorCode).toBe(0);
  const final = (await s.call(SaslAuthenticate, 2, { authBytes: enc.encode(client.final(dec.decode(first.authBytes))) })) as {
    errorCode: number; errorMessage: string | null; authBytes: Uint8Array;
  };
  return { final, verified: final.errorCode === 0 && client.verifyServerFinal(dec.decode(final.authBytes)) };
}

describe("SASL over the Kafka protocol", () => {
  test("only ApiVersions and SaslHandshake before the handshake; anything else closes", async () => {
    const s = saslConn(1);
    const versions = await s.call(C.ApiVersions, 3, { clientSoftwareName: "t", clientSoftwareVersion: "1" });
    expect(versions).not.toBe("close");
    const keys = (versions as { apiKeys: { apiKey: number }[] }).apiKeys.map((k) => k.apiKey);
    expect(keys).toEqual(expect.arrayContaining([17, 36, 50, 51]));
    expect(await s.call(C.Metadata, 12, metadataReq)).toBe("close");
    expect(s.conn.auth.state).toBe("failed");
  });

  test("SCRAM-SHA-256 login: principal User:alice, then Metadata with this listener's endpoint", async () => {
    const s = saslConn(2);
    const { verified } = await scramLogin(s, "SCRAM-SHA-256", "s3cret-pw");
    expect(verified).toBe(true);
    expect(s.conn.auth.principal).toBe("User:alice");
    const md = (await s.call(C.Metadata, 12, metadataReq)) as { brokers: { host: string; port: number }[] };
    expect(md.brokers[0]).toMatchObject({ host: "127.0.0.1", port: 29094 });
    // Re-authentication is not served.
    expect(await s.call(SaslHandshake, 1, { mechanism: "PLAIN" })).toMatchObject({ errorCode: 34 });
  });

  test("wrong SCRAM-SHA-512 password: SASL_AUTHENTICATION_FAILED with Kafka's text, then close", async () => {
    const s = saslConn(3);
    const { final, verified } = await scramLogin(s, "SCRAM-SHA-512", "wrong");
    expect(verified).toBe(false);
    expect(final.errorCode).toBe(58);
    expect(final.errorMessage).toBe("Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512");
    expect(s.state.closeRequested).toBe(true);
    expect(s.conn.auth.principal).toBe("User:ANONYMOUS");
    expect(await s.call(C.Metadata, 12, metadataReq)).toBe("close");
  });

  test("PLAIN: right and wrong password", async () => {
    const ok = saslConn(4);
    await ok.call(SaslHandshake, 1, { mechanism: "PLAIN" });
    expect(await ok.call(SaslAuthenticate, 1, { authBytes: enc.encode("\u0000alice\u0000s3cret-pw") })).toMatchObject({ errorCode: 0, sessionLifetimeMs: 0 });
    expect(ok.conn.auth.principal).toBe("User:alice");
    const bad = saslConn(5);
    await bad.call(SaslHandshake, 1, { mechanism: "PLAIN" });
    expect(await bad.call(SaslAuthenticate, 0, { authBytes: enc.encode("\u0000alice\u0000nope") })).toMatchObject({
      errorCode: 58, errorMessage: "Authentication failed: Invalid username or password",
    });
    expect(bad.state.closeRequested).toBe(true);
  });

  test("unknown mechanism: UNSUPPORTED_SASL_MECHANISM with the enabled list, then close", async () => {
    const s = saslConn(6);
    expect(await s.call(SaslHandshake, 1, { mechanism: "GSSAPI" })).toEqual({ errorCode: 33, mechanisms: MECHS });
    expect(s.state.closeRequested).toBe(true);
  });

  test("SaslAuthenticate before SaslHandshake closes; SaslHandshake on a PLAINTEXT connection gets ILLEGAL_SASL_STATE", async () => {
    const s = saslConn(7);
    expect(await s.call(SaslAuthenticate, 2, { authBytes: enc.encode("x") })).toBe("close");
    expect(await b.call(SaslHandshake, 1, { mechanism: "PLAIN" })).toMatchObject({ errorCode: 34 });
  });
});

describe("Describe/AlterUserScramCredentials", () => {
  test("upsert (client-side salted password), describe, log in with it, delete; errors", async () => {
    const salt = enc.encode("0123456789abcdef");
    const saltedPassword = new Uint8Array(pbkdf2Sync("bob-pw", salt, 4096, 32, "sha256"));
    const alter = await b.call(AlterScram, 0, {
      deletions: [{ name: "ghost", mechanism: 1 }],
      upsertions: [
        { name: "bob", mechanism: 1, iterations: 4096, salt, saltedPassword },
        { name: "carol", mechanism: 1, iterations: 1000, salt, saltedPassword },
        { name: "dave", mechanism: 0, iterations: 4096, salt, saltedPassword },
      ],
    });
    expect(alter.results.map((r) => [r.user, r.errorCode])).toEqual([["ghost", 91], ["bob", 0], ["carol", 93], ["dave", 33]]);
    const described = await b.call(DescribeScram, 0, { users: [{ name: "bob" }, { name: "alice" }, { name: "nobody" }] });
    expect(described.results.map((r) => [r.user, r.errorCode, r.credentialInfos])).toEqual([
      ["bob", 0, [{ mechanism: 1, iterations: 4096 }]],
      ["alice", 0, [{ mechanism: 1, iterations: 8192 }, { mechanism: 2, iterations: 8192 }]],
      ["nobody", 91, []],
    ]);
    const all = await b.call(DescribeScram, 0, { users: null });
    expect(all.results.map((r) => r.user)).toEqual(["alice", "bob"]);

    const s = saslConn(8);
    await s.call(SaslHandshake, 1, { mechanism: "SCRAM-SHA-256" });
    const client = new TestScramClient("sha256", "bob", "bob-pw");
    const first = (await s.call(SaslAuthenticate, 2, { authBytes: enc.encode(client.first()) })) as { authBytes: Uint8Array };
    const final = await s.call(SaslAuthenticate, 2, { authBytes: enc.encode(client.final(dec.decode(first.authBytes))) });
    expect(final).toMatchObject({ errorCode: 0 });
    expect(s.conn.auth.principal).toBe("User:bob");

    const del = await b.call(AlterScram, 0, { deletions: [{ name: "bob", mechanism: 1 }], upsertions: [] });
    expect(del.results).toEqual([{ user: "bob", errorCode: 0, errorMessage: null }]);
    expect(authServiceFor(b.broker).credentials.userNames()).toEqual(["alice"]);
  });

  test("no stored file contains a password", () => {
    for (const f of readdirSync(b.dataDir, { recursive: true }) as string[]) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(join(b.dataDir, f));
      } catch {
        continue; // a directory
      }
      expect(bytes.includes("s3cret-pw")).toBe(false);
      expect(bytes.includes("bob-pw")).toBe(false);
    }
  });
});
