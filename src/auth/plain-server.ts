/**
 * SASL/PLAIN (RFC 4616): one message `[authzid] NUL authcid NUL passwd`. Kafka checks the password
 * against a JAAS file of plain passwords; Bunka stores no passwords, so the password is checked
 * against the user's stored SCRAM credential (SCRAM-SHA-512 if present, else SCRAM-SHA-256) by
 * recomputing SaltedPassword -> ClientKey -> StoredKey with the stored salt and iterations.
 * PLAIN sends the password in clear: use it over TLS (SASL_SSL).
 */
import type { CredentialStore } from "./credential-store.ts";
import { SaslFailure } from "./errors.ts";
import { PLAIN, SCRAM_PARAMS, SCRAM_SHA_256, SCRAM_SHA_512 } from "./mechanisms.ts";
import { clientKeyOf, constantTimeEqual, digest, saltedPassword } from "./scram-crypto.ts";
import type { SaslExchange } from "./sasl-exchange.ts";

const dec = new TextDecoder("utf-8", { fatal: true });
const INVALID = "Authentication failed: Invalid username or password";

export class PlainServerExchange implements SaslExchange {
  readonly mechanism = PLAIN;
  complete = false;
  userName: string | null = null;
  private used = false;

  constructor(private readonly store: CredentialStore) {}

  async step(token: Uint8Array): Promise<Uint8Array> {
    if (this.used) throw new SaslFailure("Unexpected PLAIN message after the exchange ended", false);
    this.used = true;
    let parts: string[];
    try {
      parts = dec.decode(token).split("\u0000");
    } catch {
      throw new SaslFailure("Invalid SASL/PLAIN message: not UTF-8", true);
    }
    if (parts.length !== 3) throw new SaslFailure("Invalid SASL/PLAIN message: expected 3 tokens", true);
    const [authzid, user, password] = parts as [string, string, string];
    if (user === "") throw new SaslFailure("Authentication failed: username not specified", true);
    if (password === "") throw new SaslFailure("Authentication failed: password not specified", true);
    if (authzid !== "" && authzid !== user) {
      throw new SaslFailure("Authentication failed: Client requested an authorization id that is different from username", true);
    }
    if (!(await this.verify(user, password))) throw new SaslFailure(INVALID, true);
    this.userName = user;
    this.complete = true;
    return new Uint8Array(0);
  }

  private async verify(user: string, password: string): Promise<boolean> {
    for (const name of [SCRAM_SHA_512, SCRAM_SHA_256] as const) {
      const cred = this.store.get(user, name);
      if (!cred) continue;
      const p = SCRAM_PARAMS[name];
      const salted = await saltedPassword(p, password, cred.salt, cred.iterations);
      return constantTimeEqual(digest(p, clientKeyOf(p, salted)), cred.storedKey);
    }
    return false;
  }
}
