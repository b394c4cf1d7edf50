/**
 * The broker's authentication state that outlives connections: the SCRAM credential store of its
 * data directory, opened on first use (server.ts opens it at startup so a damaged file stops the
 * broker early) and shared by the SASL and credential-management handlers.
 */
import type { Broker } from "../broker/broker.ts";
import { CredentialStore } from "./credential-store.ts";
import { PLAIN, SCRAM_PARAMS, isScramMechanism } from "./mechanisms.ts";
import { PlainServerExchange } from "./plain-server.ts";
import type { SaslExchange } from "./sasl-exchange.ts";
import { ScramServerExchange } from "./scram-server.ts";

export class AuthService {
  constructor(readonly credentials: CredentialStore) {}

  /** A fresh server-side exchange for a mechanism, or null when Bunka does not serve it. */
  newExchange(mechanism: string): SaslExchange | null {
    if (mechanism === PLAIN) return new PlainServerExchange(this.credentials);
    if (isScramMechanism(mechanism)) return new ScramServerExchange(SCRAM_PARAMS[mechanism], this.credentials);
    return null;
  }
}

const services = new WeakMap<Broker, AuthService>();

export function authServiceFor(broker: Broker): AuthService {
  let s = services.get(broker);
  if (!s) {
    s = new AuthService(CredentialStore.open(broker.config.dataDir));
    services.set(broker, s);
  }
  return s;
}
