/**
 * The capacity unit: what one unit of a tenant buys (broker keys bunka.tenant.unit.*). A tenant's
 * limits are its units times the unit, on every dimension.
 */
import { brokerConfigValue, type BrokerConfig } from "../config/broker-config.ts";

export interface UnitDefinition {
  ingressBytesPerSec: number;
  egressBytesPerSec: number;
  requestsPerSec: number;
  connections: number;
  partitions: number;
  /** Partitions created per second (KIP-599 controller_mutation_rate). */
  mutationsPerSec: number;
}

export function unitDefinition(config: BrokerConfig): UnitDefinition {
  const n = (name: string) => brokerConfigValue(config, `bunka.tenant.unit.${name}`) as number;
  return {
    ingressBytesPerSec: n("ingress.bytes.per.sec"),
    egressBytesPerSec: n("egress.bytes.per.sec"),
    requestsPerSec: n("requests.per.sec"),
    connections: n("connections"),
    partitions: n("partitions"),
    mutationsPerSec: n("controller.mutation.rate"),
  };
}

export function scaleUnit(unit: UnitDefinition, units: number): UnitDefinition {
  return {
    ingressBytesPerSec: unit.ingressBytesPerSec * units,
    egressBytesPerSec: unit.egressBytesPerSec * units,
    requestsPerSec: unit.requestsPerSec * units,
    connections: unit.connections * units,
    partitions: unit.partitions * units,
    mutationsPerSec: unit.mutationsPerSec * units,
  };
}
