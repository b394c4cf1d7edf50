import { afterAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBrokerConfig } from "../../../src/config/broker-config.ts";

const dir = mkdtempSync(join(tmpdir(), "bunka-auth-cfg-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cfg = (entries: Record<string, string>) => buildBrokerConfig(new Map(Object.entries(entries)));

describe("listener security config", () => {
  test("PLAINTEXT-only configs behave as before", () => {
    const c = cfg({});
    expect(c.listeners).toEqual([{ name: "PLAINTEXT", host: "127.0.0.1", port: 9092 }]);
    expect(c.listenerSecurity.get("PLAINTEXT")).toEqual({ protocol: "PLAINTEXT", saslMechanisms: [] });
    expect(c.tls).toBeNull();
  });

  test("named listeners through listener.security.protocol.map; per-listener mechanisms; advertised by name", () => {
    const c = cfg({
      listeners: "CLIENT://127.0.0.1:9095,INTERNAL://127.0.0.1:9096",
      "listener.security.protocol.map": "CLIENT:SASL_PLAINTEXT,INTERNAL:PLAINTEXT",
      "listener.name.client.sasl.enabled.mechanisms": "SCRAM-SHA-512",
      "advertised.listeners": "INTERNAL://internal.example:19096,CLIENT://public.example:19095",
    });
    expect(c.listenerSecurity.get("CLIENT")).toEqual({ protocol: "SASL_PLAINTEXT", saslMechanisms: ["SCRAM-SHA-512"] });
    expect(c.advertisedListeners.map((l) => `${l.name}=${l.host}:${l.port}`)).toEqual(["CLIENT=public.example:19095", "INTERNAL=internal.example:19096"]);
    expect(c.warnings).toEqual([]);
    expect(cfg({ listeners: "SASL_PLAINTEXT://127.0.0.1:0,PLAINTEXT://127.0.0.1:0" }).listenerSecurity.get("SASL_PLAINTEXT")!.saslMechanisms)
      .toEqual(["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]);
  });

  test("refusals: unmapped listener, unserved mechanism, TLS without a keystore, JKS, unknown advertised name", () => {
    expect(() => cfg({ listeners: "CLIENT://127.0.0.1:1" })).toThrow(/no security protocol for listener CLIENT/);
    expect(() => cfg({ listeners: "SASL_PLAINTEXT://127.0.0.1:1", "sasl.enabled.mechanisms": "GSSAPI" })).toThrow(/GSSAPI is not served/);
    expect(() => cfg({ listeners: "SSL://127.0.0.1:1" })).toThrow(/ssl.keystore.location/);
    expect(() => cfg({ listeners: "SSL://127.0.0.1:1", "ssl.keystore.type": "JKS", "ssl.keystore.location": "/x.jks" })).toThrow(/PEM/);
    expect(() => cfg({ "advertised.listeners": "OTHER://h:1" })).toThrow(/not one of the listeners/);
    expect(() => cfg({ "ssl.client.auth": "required" })).toThrow();
  });

  test("PEM keystore: one file with key and chain, or inline", () => {
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "k.pem"), "-out", join(dir, "c.pem"), "-days", "1", "-subj", "/CN=localhost"], { stdio: "ignore" });
    const key = readFileSync(join(dir, "k.pem"), "utf8");
    const cert = readFileSync(join(dir, "c.pem"), "utf8");
    writeFileSync(join(dir, "ks.pem"), key + cert);
    const fromFile = cfg({ listeners: "SSL://127.0.0.1:1", "ssl.keystore.location": join(dir, "ks.pem") }).tls!;
    expect(fromFile.cert).toContain("BEGIN CERTIFICATE");
    expect(fromFile.key).toContain("PRIVATE KEY");
    const inline = cfg({ listeners: "SASL_SSL://127.0.0.1:1", "ssl.keystore.type": "PEM", "ssl.keystore.certificate.chain": cert, "ssl.keystore.key": key }).tls!;
    expect(inline.cert.trim()).toBe(cert.trim());
  });
});
