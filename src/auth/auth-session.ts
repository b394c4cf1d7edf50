/**
 * Authentication state of one connection. On a SASL listener it walks
 *   handshake (ApiVersions / SaslHandshake) -> authenticate (SaslAuthenticate...) -> done | failed
 * and only `done` lets other requests through (see allowsBeforeAuth). On PLAINTEXT and SSL listeners
 * the session starts `done` with Kafka's anonymous principal.
 */
import type { SaslExchange } from "./sasl-exchange.ts";

export const ANONYMOUS = "User:ANONYMOUS";

export type AuthState = "handshake" | "authenticate" | "done" | "failed";

const API_VERSIONS = 18;
const SASL_HANDSHAKE = 17;
const SASL_AUTHENTICATE = 36;

export class AuthSession {
  state: AuthState;
  exchange: SaslExchange | null = null;
  /** Kafka principal of the connection: `User:<name>` after SASL, `User:ANONYMOUS` otherwise. */
  principal: string = ANONYMOUS;
  /** The mechanism that authenticated the connection, if any. */
  mechanism: string | null = null;

  constructor(
    readonly requiresSasl: boolean,
    readonly enabledMechanisms: readonly string[],
  ) {
    this.state = requiresSasl ? "handshake" : "done";
  }

  get authenticated(): boolean {
    return this.state === "done";
  }

  /**
   * Whether a request of `apiKey` may be handled in the current state. Kafka's SASL server
   * authenticator takes only ApiVersions and SaslHandshake before the handshake and only
   * SaslAuthenticate after it; anything else ends the connection.
   */
  allows(apiKey: number): boolean {
    switch (this.state) {
      case "done":
        return true;
      case "handshake":
        return apiKey === API_VERSIONS || apiKey === SASL_HANDSHAKE;
      case "authenticate":
        return apiKey === SASL_AUTHENTICATE;
      case "failed":
        return false;
    }
  }

  succeed(userName: string, mechanism: string): void {
    this.state = "done";
    this.principal = `User:${userName}`;
    this.mechanism = mechanism;
    this.exchange = null;
  }

  fail(): void {
    this.state = "failed";
    this.exchange = null;
  }
}
