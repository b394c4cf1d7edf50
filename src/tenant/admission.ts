/**
 * Tenant admission: the units of all tenants together must fit in the broker's measured capacity on
 * every measured dimension (ingress, egress, requests), and, when `max.connections` is finite, in
 * it as well. Refusals name the dimension and the figures.
 */
import type { MeasuredCapacity } from "./capacity-store.ts";
import { scaleUnit, type UnitDefinition } from "./unit.ts";

export class AdmissionError extends Error {}

const MIB = 1024 * 1024;

/** Throws AdmissionError unless `totalUnits` (all tenants after the change) fit. */
export function admit(totalUnits: number, unit: UnitDefinition, capacity: MeasuredCapacity | null, maxConnections: number): void {
  if (capacity === null) {
    throw new AdmissionError("the broker's capacity has not been measured: run `bun run capacity -- --data-dir <dir>` first");
  }
  const need = scaleUnit(unit, totalUnits);
  const over: string[] = [];
  const check = (what: string, needed: number, have: number, fmt: (v: number) => string, source = "measured") => {
    if (needed > have) over.push(`${what} ${fmt(needed)} > ${source} ${fmt(have)}`);
  };
  const mib = (v: number) => `${(v / MIB).toFixed(1)} MiB/s`;
  check("ingress", need.ingressBytesPerSec, capacity.ingressBytesPerSec, mib);
  check("egress", need.egressBytesPerSec, capacity.egressBytesPerSec, mib);
  check("requests", need.requestsPerSec, capacity.requestsPerSec, (v) => `${Math.round(v)}/s`);
  check("connections", need.connections, maxConnections, (v) => String(v), "max.connections");
  if (over.length > 0) {
    const fit = maxUnits(unit, capacity, maxConnections);
    throw new AdmissionError(`over capacity: ${totalUnits} units in total would need ${over.join(", ")} (this broker fits ${fit} units)`);
  }
}

/** The most units the capacity holds. */
export function maxUnits(unit: UnitDefinition, capacity: MeasuredCapacity, maxConnections: number): number {
  return Math.floor(Math.min(
    capacity.ingressBytesPerSec / unit.ingressBytesPerSec,
    capacity.egressBytesPerSec / unit.egressBytesPerSec,
    capacity.requestsPerSec / unit.requestsPerSec,
    maxConnections / unit.connections,
  ));
}
