/**
 * The broker's authorization state: the ACL store of its data directory and, when
 * `authorizer.class.name` is set, the authorizer that enforces it. Opened on first use per broker
 * (like the credential store), read from the broker config keys `authorizer.class.name`,
 * `super.users` and `allow.everyone.if.no.acl.found`.
 */
import type { Broker } from "../broker/broker.ts";
import { brokerConfigValue, type BrokerConfig } from "../config/broker-config.ts";
import { AclStore } from "./acl-store.ts";
import { Authorizer } from "./authorizer.ts";

/** Accepted values of authorizer.class.name (empty: no authorizer, every request is allowed). */
export const AUTHORIZER_NAMES = [
  "",
  "bunka",
  "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
  "kafka.security.authorizer.AclAuthorizer",
] as const;

export class AclService {
  /** null when no authorizer is configured: no checks, and the ACL APIs answer SECURITY_DISABLED. */
  readonly authorizer: Authorizer | null;

  constructor(readonly store: AclStore, enabled: boolean, superUsers: readonly string[], allowEveryoneIfNoAclFound: boolean) {
    this.authorizer = enabled ? new Authorizer(store, { superUsers, allowEveryoneIfNoAclFound }) : null;
  }

  static fromConfig(config: BrokerConfig): AclService {
    const name = (brokerConfigValue(config, "authorizer.class.name") as string | null) ?? "";
    const superUsers = ((brokerConfigValue(config, "super.users") as string | null) ?? "")
      .split(";").map((s) => s.trim()).filter((s) => s !== "");
    const allowIfNone = brokerConfigValue(config, "allow.everyone.if.no.acl.found") as boolean;
    return new AclService(AclStore.open(config.dataDir), name !== "", superUsers, allowIfNone);
  }
}

const services = new WeakMap<Broker, AclService>();

export function aclServiceFor(broker: Broker): AclService {
  let s = services.get(broker);
  if (!s) {
    s = AclService.fromConfig(broker.config);
    services.set(broker, s);
  }
  return s;
}
