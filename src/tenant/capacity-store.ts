/**
 * The broker's measured capacity (`bun run capacity`, capacity-probe.ts), kept in
 * `<data dir>/bunka-capacity.msgpack`: what this broker sustained on this machine, so tenant
 * admission compares units against a measurement rather than a guess.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pack, unpack } from "msgpackr";
import { writeFileAtomicSync } from "../log/atomic-file.ts";

export const CAPACITY_FILE = "bunka-capacity.msgpack";

export interface MeasuredCapacity {
  ingressBytesPerSec: number;
  egressBytesPerSec: number;
  requestsPerSec: number;
  measuredAtMs: number;
  /** Where and how: host name, cores, seconds per phase, record size. */
  method: string;
}

export function readCapacity(dataDir: string): MeasuredCapacity | null {
  const path = join(dataDir, CAPACITY_FILE);
  if (!existsSync(path)) return null;
  const state = unpack(readFileSync(path)) as { version: number; capacity: MeasuredCapacity };
  if (state?.version !== 1) throw new Error(`${path}: unknown capacity version ${String(state?.version)}`);
  return state.capacity;
}

export function writeCapacity(dataDir: string, capacity: MeasuredCapacity): void {
  mkdirSync(dataDir, { recursive: true }); // measured before the broker's first start
  writeFileAtomicSync(join(dataDir, CAPACITY_FILE), pack({ version: 1, capacity }));
}
