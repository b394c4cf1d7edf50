/**
 * SaslHandshake (key 17), v0-1. v0 (deprecated) meant raw SASL tokens without SaslAuthenticate
 * framing afterwards; that raw exchange is not served (clients that see SaslAuthenticate in
 * ApiVersions use v1), but v0 stays advertised because librdkafka's feature check for SASL
 * wants SaslHandshake 0..0 in the ApiVersions table. The client names a mechanism; the answer lists the
 * listener's enabled mechanisms. An unknown or disabled mechanism gets UNSUPPORTED_SASL_MECHANISM
 * and the connection is closed after the answer, as Kafka does. On a listener without SASL, or after
 * authentication (re-authentication, KIP-368, is not served), the answer is ILLEGAL_SASL_STATE.
 */
import { readSaslHandshakeRequest } from "../protocol/generated/sasl-handshake-request.ts";
import { writeSaslHandshakeResponse, type SaslHandshakeResponse } from "../protocol/generated/sasl-handshake-response.ts";
import { authServiceFor } from "../auth/auth-service.ts";
import { AuthError } from "../auth/errors.ts";
import { defineHandler } from "./handler.ts";

export const saslHandshakeHandler = defineHandler({
  apiKey: 17,
  name: "SaslHandshake",
  minVersion: 0,
  maxVersion: 1,
  readRequest: readSaslHandshakeRequest,
  writeResponse: writeSaslHandshakeResponse,
  handle({ broker, conn }, req): SaslHandshakeResponse {
    const auth = conn.auth;
    if (!auth?.requiresSasl || auth.state !== "handshake") {
      return { errorCode: AuthError.ILLEGAL_SASL_STATE, mechanisms: [...(auth?.enabledMechanisms ?? [])] };
    }
    const mechanisms = [...auth.enabledMechanisms];
    const exchange = mechanisms.includes(req.mechanism) ? authServiceFor(broker).newExchange(req.mechanism) : null;
    if (!exchange) {
      broker.log(`connection ${conn.id} from ${conn.remoteAddress}: unsupported SASL mechanism ${JSON.stringify(req.mechanism)}; closing`);
      auth.fail();
      conn.closeAfterResponses?.();
      return { errorCode: AuthError.UNSUPPORTED_SASL_MECHANISM, mechanisms };
    }
    auth.exchange = exchange;
    auth.state = "authenticate";
    return { errorCode: AuthError.NONE, mechanisms };
  },
});
