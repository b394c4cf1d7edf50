/**
 * The server side of SCRAM-SHA-256 / SCRAM-SHA-512 (RFC 5802, RFC 7677) for one connection:
 * client-first -> server-first (combined nonce, salt, iterations), client-final -> server-final
 * (server signature) once the client proof checks out against the stored StoredKey.
 * An unknown user is answered with a made-up salt and fails at the proof, like a wrong password,
 * so the exchange does not reveal which users exist. Kafka's delegation-token extension
 * (`tokenauth=true`) is refused: tokens are not served.
 */
import { randomBytes } from "node:crypto";
import type { CredentialStore, ScramCredential } from "./credential-store.ts";
import { SaslFailure } from "./errors.ts";
import type { ScramParams } from "./mechanisms.ts";
import { constantTimeEqual, digest, hmac, xor } from "./scram-crypto.ts";
import type { SaslExchange } from "./sasl-exchange.ts";
import { parseClientFinal, parseClientFirst, type ClientFirst } from "./scram-messages.ts";

// Per-process secret for the decoy salts of unknown users (stable within a process, so retries agree).
const DECOY_SECRET = randomBytes(32);

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });

export class ScramServerExchange implements SaslExchange {
  private state: "first" | "final" | "done" | "failed" = "first";
  private first: ClientFirst | null = null;
  private serverFirst = "";
  private nonce = "";
  private credential: ScramCredential | null = null;
  userName: string | null = null;

  constructor(
    private readonly params: ScramParams,
    private readonly store: CredentialStore,
    private readonly serverNonce: string = randomBytes(24).toString("base64"),
  ) {}

  get mechanism(): string {
    return this.params.name;
  }

  get complete(): boolean {
    return this.state === "done";
  }

  step(token: Uint8Array): Uint8Array {
    try {
      if (this.state === "first") return enc.encode(this.onClientFirst(text(token)));
      if (this.state === "final") return enc.encode(this.onClientFinal(text(token)));
      throw new SaslFailure("Unexpected SCRAM message after the exchange ended", false);
    } catch (e) {
      this.state = "failed";
      throw e;
    }
  }

  private onClientFirst(message: string): string {
    const first = parseClientFirst(message);
    if (first.authzid !== null && first.authzid !== first.userName) {
      throw new SaslFailure("Authentication failed: Client requested an authorization id that is different from username", true);
    }
    if ((first.extensions.get("tokenauth") ?? "false").toLowerCase() === "true") {
      throw new SaslFailure("Authentication failed: delegation tokens are not supported", true);
    }
    this.first = first;
    this.credential = this.store.get(first.userName, this.params.name) ?? null;
    const salt = this.credential?.salt ?? hmac(this.params, DECOY_SECRET, `salt:${first.userName}`);
    const iterations = this.credential?.iterations ?? this.params.minIterations;
    this.nonce = first.clientNonce + this.serverNonce;
    this.serverFirst = `r=${this.nonce},s=${Buffer.from(salt).toString("base64")},i=${iterations}`;
    this.state = "final";
    return this.serverFirst;
  }

  private onClientFinal(message: string): string {
    const final = parseClientFinal(message);
    const first = this.first!;
    // Kafka accepts a final nonce that *ends with* the combined nonce: librdkafka (at least to 2.x)
    // sends client nonce + combined nonce. The auth message covers what was sent, so this is safe.
    if (!final.nonce.endsWith(this.nonce)) throw new SaslFailure("Invalid SCRAM nonce", false);
    if (Buffer.from(final.channelBinding, "base64").toString("latin1") !== first.gs2Header) {
      throw new SaslFailure("Invalid SCRAM channel binding", false);
    }
    const cred = this.credential;
    if (!cred) throw new SaslFailure("Invalid user credentials", false);
    const authMessage = `${first.bare},${this.serverFirst},${final.withoutProof}`;
    const clientSignature = hmac(this.params, cred.storedKey, authMessage);
    if (final.proof.length !== clientSignature.length) throw new SaslFailure("Invalid client proof", false);
    const clientKey = xor(final.proof, clientSignature);
    if (!constantTimeEqual(digest(this.params, clientKey), cred.storedKey)) throw new SaslFailure("Invalid client proof", false);
    const serverSignature = hmac(this.params, cred.serverKey, authMessage);
    this.userName = first.userName;
    this.state = "done";
    return `v=${Buffer.from(serverSignature).toString("base64")}`;
  }
}

function text(token: Uint8Array): string {
  try {
    return dec.decode(token);
  } catch {
    throw new SaslFailure("SCRAM message is not UTF-8", false);
  }
}
