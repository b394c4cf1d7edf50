/**
 * One QuotaManager per broker, opened on first use from the broker's data directory (the quota file
 * is read then; a damaged file fails that first request or connection loudly).
 */
import type { Broker } from "../broker/broker.ts";
import type { BrokerConfig } from "../config/broker-config.ts";
import { quotaConfig } from "./quota-config.ts";
import { QuotaManager } from "./quota-manager.ts";
import { QuotaStore } from "./quota-store.ts";
import type { ConnectionQuotas } from "./connection-quotas.ts";

const managers = new WeakMap<object, QuotaManager>();

export function quotaManagerFor(broker: Pick<Broker, "config">): QuotaManager {
  let m = managers.get(broker);
  if (!m) {
    m = new QuotaManager(QuotaStore.open(broker.config.dataDir), quotaConfig(broker.config));
    managers.set(broker, m);
  }
  return m;
}

/** The connection limits of a listener's dispatcher when it is a broker (has a config), else none. */
export function connectionQuotasOf(dispatcher: object): ConnectionQuotas | null {
  const config = (dispatcher as { config?: BrokerConfig }).config;
  if (config === undefined || typeof config.dataDir !== "string") return null;
  return quotaManagerFor(dispatcher as { config: BrokerConfig }).connections;
}
