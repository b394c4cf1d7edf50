/** Quota settings of the broker, read from its config keys (see src/config/broker-config.ts). */
import { brokerConfigValue, type BrokerConfig } from "../config/broker-config.ts";

export interface QuotaConfig {
  numWindows: number;
  windowMs: number;
  maxConnections: number;
  maxConnectionsPerIp: number;
  /** Broker-wide new connections per second. */
  maxConnectionCreationRate: number;
  /** Produce bytes/s the broker takes (Infinity: no ingress backpressure). */
  ingressCapacity: number;
  /** Fetch bytes/s the broker serves (Infinity: no egress backpressure). */
  egressCapacity: number;
  /** Fraction of a capacity at which tenant quotas start shrinking. */
  threshold: number;
}

const INT_MAX = 2147483647;
const unlimited = (v: number): number => (v <= 0 || v >= INT_MAX ? Number.POSITIVE_INFINITY : v);

export function quotaConfig(config: BrokerConfig): QuotaConfig {
  const n = (name: string) => brokerConfigValue(config, name) as number;
  return {
    numWindows: n("quota.window.num"),
    windowMs: n("quota.window.size.seconds") * 1000,
    maxConnections: n("max.connections") >= INT_MAX ? Number.POSITIVE_INFINITY : n("max.connections"),
    maxConnectionsPerIp: n("max.connections.per.ip") >= INT_MAX ? Number.POSITIVE_INFINITY : n("max.connections.per.ip"),
    maxConnectionCreationRate: n("max.connection.creation.rate") >= INT_MAX ? Number.POSITIVE_INFINITY : n("max.connection.creation.rate"),
    ingressCapacity: unlimited(n("bunka.broker.capacity.ingress.bytes.per.sec")),
    egressCapacity: unlimited(n("bunka.broker.capacity.egress.bytes.per.sec")),
    threshold: n("bunka.broker.capacity.threshold"),
  };
}

export const DEFAULT_QUOTA_CONFIG: QuotaConfig = {
  numWindows: 11,
  windowMs: 1000,
  maxConnections: Number.POSITIVE_INFINITY,
  maxConnectionsPerIp: Number.POSITIVE_INFINITY,
  maxConnectionCreationRate: Number.POSITIVE_INFINITY,
  ingressCapacity: Number.POSITIVE_INFINITY,
  egressCapacity: Number.POSITIVE_INFINITY,
  threshold: 0.8,
};
