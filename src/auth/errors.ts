/** Kafka error codes of the authentication APIs (numbers from Kafka's `Errors` enum) and their messages. */
export const AuthError = {
  NONE: 0,
  UNSUPPORTED_SASL_MECHANISM: 33,
  ILLEGAL_SASL_STATE: 34,
  INVALID_REQUEST: 42,
  SASL_AUTHENTICATION_FAILED: 58,
  RESOURCE_NOT_FOUND: 91,
  DUPLICATE_RESOURCE: 92,
  UNACCEPTABLE_CREDENTIAL: 93,
} as const;

/**
 * What a failed exchange tells the client. `generic` failures (SCRAM: unknown user, bad proof, bad
 * nonce) get Kafka's fixed text that reveals nothing about the user; a `specific` one (PLAIN's
 * "Invalid username or password", refused token auth) is passed through, as Kafka does for
 * SaslAuthenticationException.
 */
export class SaslFailure extends Error {
  constructor(
    message: string,
    readonly specific: boolean,
  ) {
    super(message);
  }
}

export function clientMessageFor(failure: SaslFailure, mechanism: string): string {
  return failure.specific ? failure.message : `Authentication failed during authentication due to invalid credentials with SASL mechanism ${mechanism}`;
}
