import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CredentialStore } from "../../../src/auth/credential-store.ts";
import { SaslFailure } from "../../../src/auth/errors.ts";
import { SCRAM_PARAMS } from "../../../src/auth/mechanisms.ts";
import { PlainServerExchange } from "../../../src/auth/plain-server.ts";
import { keysFromSaltedPassword, saltedPasswordSync } from "../../../src/auth/scram-crypto.ts";
import { decodeSaslName, parseClientFirst } from "../../../src/auth/scram-messages.ts";
import { ScramServerExchange } from "../../../src/auth/scram-server.ts";
import { parseUsersArgs, runUsersCommand } from "../../../src/auth/users-cli.ts";
import { TestScramClient } from "./scram-client.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "bunka-auth-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function storeWith(user: string, password: string, mech: "SCRAM-SHA-256" | "SCRAM-SHA-512", salt: Uint8Array, iterations = 4096): CredentialStore {
  const store = CredentialStore.open(tempDir());
  const p = SCRAM_PARAMS[mech];
  store.put(user, mech, { salt, iterations, ...keysFromSaltedPassword(p, saltedPasswordSync(p, password, salt, iterations)) });
  return store;
}

describe("SCRAM server", () => {
  test("RFC 7677 test vector (SCRAM-SHA-256, user/pencil)", () => {
    const salt = new Uint8Array(Buffer.from("W22ZaJ0SNY7soEsUEjb6gQ==", "base64"));
    const store = storeWith("user", "pencil", "SCRAM-SHA-256", salt);
    const server = new ScramServerExchange(SCRAM_PARAMS["SCRAM-SHA-256"], store, "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
    const serverFirst = dec.decode(server.step(enc.encode("n,,n=user,r=rOprNGfwEbeRWgbNEkqO")) as Uint8Array);
    expect(serverFirst).toBe("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
    const serverFinal = dec.decode(
      server.step(enc.encode("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")) as Uint8Array,
    );
    expect(serverFinal).toBe("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    expect(server.complete).toBe(true);
    expect(server.userName).toBe("user");
  });

  for (const [mech, hash] of [["SCRAM-SHA-256", "sha256"], ["SCRAM-SHA-512", "sha512"]] as const) {
    test(`${mech} round trip with a test client; wrong password and unknown user fail alike`, () => {
      const store = storeWith("al,ice=", "secret", mech, new Uint8Array(16).fill(7));
      const run = (user: string, password: string) => {
        const client = new TestScramClient(hash, user, password);
        const server = new ScramServerExchange(SCRAM_PARAMS[mech], store);
        const serverFirst = dec.decode(server.step(enc.encode(client.first())) as Uint8Array);
        try {
          const serverFinal = dec.decode(server.step(enc.encode(client.final(serverFirst))) as Uint8Array);
          return { ok: client.verifyServerFinal(serverFinal), user: server.userName };
        } catch (e) {
          expect(e).toBeInstanceOf(SaslFailure);
          expect((e as SaslFailure).specific).toBe(false);
          return { ok: false, user: server.userName };
        }
      };
      expect(run("al,ice=", "secret")).toEqual({ ok: true, user: "al,ice=" });
      expect(run("al,ice=", "wrong")).toEqual({ ok: false, user: null });
      expect(run("nobody", "secret")).toEqual({ ok: false, user: null });
    });
  }

  test("token auth, channel binding and a foreign authzid are refused", () => {
    const store = storeWith("u", "p", "SCRAM-SHA-256", new Uint8Array(16));
    const first = (msg: string) => () => new ScramServerExchange(SCRAM_PARAMS["SCRAM-SHA-256"], store).step(enc.encode(msg));
    expect(first("n,,n=u,r=abc,tokenauth=true")).toThrow(/delegation tokens/);
    expect(first("p=tls-unique,,n=u,r=abc")).toThrow(/Channel binding/);
    expect(first("n,a=other,n=u,r=abc")).toThrow(/authorization id/);
    expect(first("n,,m=x,n=u,r=abc")).toThrow(SaslFailure);
    expect(() => decodeSaslName("a=2Xb")).toThrow(SaslFailure);
    expect(parseClientFirst("y,a=u,n=u,r=n1,ext=1").extensions.get("ext")).toBe("1");
  });
});

describe("PLAIN", () => {
  test("checks the password against the stored SCRAM credential", async () => {
    const store = storeWith("alice", "s3cret", "SCRAM-SHA-512", new Uint8Array(32).fill(1));
    const ok = new PlainServerExchange(store);
    await ok.step(enc.encode("\u0000alice\u0000s3cret"));
    expect(ok.complete).toBe(true);
    expect(ok.userName).toBe("alice");
    const bad = new PlainServerExchange(store);
    expect(bad.step(enc.encode("alice\u0000alice\u0000nope"))).rejects.toThrow("Authentication failed: Invalid username or password");
    const other = new PlainServerExchange(store);
    expect(other.step(enc.encode("bob\u0000alice\u0000s3cret"))).rejects.toThrow(/authorization id/);
  });
});

describe("credential file and users CLI", () => {
  test("add/list/delete; the file holds no password", () => {
    const dir = tempDir();
    const cli = (...argv: string[]) => runUsersCommand(parseUsersArgs([...argv, "--data-dir", dir], {}));
    cli("add", "alice", "--password", "correct-horse-battery");
    cli("add", "bob", "--password", "tr0ub4dor", "--mechanism", "SCRAM-SHA-256", "--iterations", "4096");
    expect(cli("list")).toEqual([
      "alice\tSCRAM-SHA-256(iterations=8192) SCRAM-SHA-512(iterations=8192)",
      "bob\tSCRAM-SHA-256(iterations=4096)",
    ]);
    for (const f of readdirSync(dir)) {
      const bytes = readFileSync(join(dir, f));
      expect(bytes.includes("correct-horse-battery")).toBe(false);
      expect(bytes.includes("tr0ub4dor")).toBe(false);
    }
    expect(cli("delete", "bob")).toEqual(["bob: removed SCRAM-SHA-256"]);
    expect(CredentialStore.open(dir).userNames()).toEqual(["alice"]);
    expect(() => cli("add", "x", "--password", "p", "--iterations", "100")).toThrow(/iterations/);
  });
});
