/** One mechanism's server side of a SASL exchange, fed the client's tokens one at a time. */
export interface SaslExchange {
  readonly mechanism: string;
  /** Evaluates one client token and returns the server's answer; throws SaslFailure when authentication fails. */
  step(token: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** True once the client is authenticated. */
  readonly complete: boolean;
  /** The authenticated user name, set when complete. */
  readonly userName: string | null;
}
