/**
 * The certificate and key of TLS listeners, from Kafka's keystore keys with `ssl.keystore.type=PEM`
 * (KIP-651): either `ssl.keystore.location` naming a PEM file holding the private key and the
 * certificate chain, or the PEM text inline in `ssl.keystore.certificate.chain` + `ssl.keystore.key`.
 * `ssl.key.password` decrypts an encrypted key. JKS and PKCS12 keystores are not read.
 */
import { readFileSync } from "node:fs";

export interface TlsMaterial {
  cert: string;
  key: string;
  passphrase?: string;
}

export class TlsConfigError extends Error {}

const KEY_BLOCK = /-----BEGIN ((?:[A-Z]+ )*)PRIVATE KEY-----[\s\S]+?-----END \1PRIVATE KEY-----/;
const CERT_BLOCKS = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** `get` returns a key's raw value or null when unset. */
export function loadTlsMaterial(get: (key: string) => string | null): TlsMaterial {
  const type = (get("ssl.keystore.type") ?? "PEM").toUpperCase();
  if (type !== "PEM") throw new TlsConfigError(`ssl.keystore.type=${type} is not supported; use PEM (certificate and key in PEM form)`);
  const location = get("ssl.keystore.location");
  const inlineChain = get("ssl.keystore.certificate.chain");
  const inlineKey = get("ssl.keystore.key");
  let pem: string;
  if (location) {
    if (inlineChain || inlineKey) throw new TlsConfigError("set either ssl.keystore.location or ssl.keystore.certificate.chain + ssl.keystore.key, not both");
    try {
      pem = readFileSync(location, "utf8");
    } catch (e) {
      throw new TlsConfigError(`ssl.keystore.location: cannot read ${location}: ${(e as Error).message}`);
    }
  } else if (inlineChain && inlineKey) {
    pem = `${inlineKey}\n${inlineChain}`;
  } else {
    throw new TlsConfigError("an SSL or SASL_SSL listener needs ssl.keystore.location (a PEM file with key and certificates) or ssl.keystore.certificate.chain + ssl.keystore.key");
  }
  const key = KEY_BLOCK.exec(pem)?.[0];
  const certs = pem.match(CERT_BLOCKS) ?? [];
  if (!key) throw new TlsConfigError("the PEM keystore has no PRIVATE KEY block");
  if (certs.length === 0) throw new TlsConfigError("the PEM keystore has no CERTIFICATE block");
  const passphrase = get("ssl.key.password");
  return { cert: certs.join("\n"), key, ...(passphrase ? { passphrase } : {}) };
}
