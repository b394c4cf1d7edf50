/**
 * SaslAuthenticate (key 36), v0-2: carries the SASL tokens of the mechanism chosen by SaslHandshake.
 * When the exchange completes the connection's principal becomes `User:<name>`. A failed exchange
 * is answered with SASL_AUTHENTICATION_FAILED (Kafka's texts: the mechanism's own message for PLAIN,
 * a fixed one for SCRAM that does not reveal whether the user exists) and the connection is closed
 * after the answer. session_lifetime_ms is 0: sessions do not expire (KIP-368 not served).
 */
import { readSaslAuthenticateRequest } from "../protocol/generated/sasl-authenticate-request.ts";
import { writeSaslAuthenticateResponse, type SaslAuthenticateResponse } from "../protocol/generated/sasl-authenticate-response.ts";
import { AuthError, SaslFailure, clientMessageFor } from "../auth/errors.ts";
import { defineHandler, type RequestContext } from "./handler.ts";

const EMPTY = new Uint8Array(0);

function answer(errorCode: number, errorMessage: string | null, authBytes: Uint8Array = EMPTY): SaslAuthenticateResponse {
  return { errorCode, errorMessage, authBytes, sessionLifetimeMs: 0 };
}

export const saslAuthenticateHandler = defineHandler({
  apiKey: 36,
  name: "SaslAuthenticate",
  minVersion: 0,
  maxVersion: 2,
  readRequest: readSaslAuthenticateRequest,
  writeResponse: writeSaslAuthenticateResponse,
  async handle(ctx, req): Promise<SaslAuthenticateResponse> {
    const auth = ctx.conn.auth;
    const exchange = auth?.exchange;
    if (!auth?.requiresSasl || auth.state !== "authenticate" || !exchange) {
      return answer(AuthError.ILLEGAL_SASL_STATE, "SaslAuthenticate request received after successful authentication");
    }
    try {
      const token = await exchange.step(req.authBytes);
      if (exchange.complete) {
        auth.succeed(exchange.userName!, exchange.mechanism);
        ctx.broker.log(`connection ${ctx.conn.id} from ${ctx.conn.remoteAddress}: authenticated as ${auth.principal} with ${exchange.mechanism}`);
      }
      return answer(AuthError.NONE, null, token);
    } catch (e) {
      if (!(e instanceof SaslFailure)) throw e;
      return failed(ctx, exchange.mechanism, e);
    }
  },
});

function failed(ctx: RequestContext, mechanism: string, e: SaslFailure): SaslAuthenticateResponse {
  ctx.broker.log(`connection ${ctx.conn.id} from ${ctx.conn.remoteAddress}: ${mechanism} authentication failed: ${e.message}; closing`);
  ctx.conn.auth?.fail();
  ctx.conn.closeAfterResponses?.();
  return answer(AuthError.SASL_AUTHENTICATION_FAILED, clientMessageFor(e, mechanism));
}
