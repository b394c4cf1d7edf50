/**
 * The clean-shutdown marker of a data directory (Kafka's `.kafka_cleanshutdown`): written, durably,
 * only after every partition log closed cleanly (all segment files complete and fsynced); removed,
 * durably, right after the logs were opened and before anything is appended. Its presence at
 * startup lets the logs resume their segments from their indexes instead of walking every batch,
 * so a clean restart costs per partition, not per byte stored. A crash at any point leaves no
 * marker behind the new appends, and the next start walks everything as before.
 */
import * as fs from "node:fs";
import { join } from "node:path";
import { fsyncDirectorySync, writeFileAtomicSync } from "./atomic-file.ts";

export const CLEAN_SHUTDOWN_FILE = ".bunka-clean-shutdown";

export function hasCleanShutdownMarker(dataDir: string): boolean {
  return fs.existsSync(join(dataDir, CLEAN_SHUTDOWN_FILE));
}

export function writeCleanShutdownMarker(dataDir: string): void {
  writeFileAtomicSync(join(dataDir, CLEAN_SHUTDOWN_FILE), new TextEncoder().encode(`${new Date().toISOString()}\n`));
}

export function removeCleanShutdownMarker(dataDir: string): void {
  const path = join(dataDir, CLEAN_SHUTDOWN_FILE);
  if (!fs.existsSync(path)) return;
  fs.rmSync(path, { force: true });
  fsyncDirectorySync(dataDir);
}
