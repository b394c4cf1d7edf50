/**
 * `partition.meta`: the small per-partition metadata file, msgpack-encoded `{ v: 1, logStartOffset }`,
 * written with writeFileAtomic (temp + fsync + rename + dir fsync) so a crash leaves the old or the
 * new value. Only DeleteRecords needs it: otherwise the log start is the first segment's base offset.
 */
import * as fs from "node:fs";
import { join } from "node:path";
import { pack, unpack } from "msgpackr";
import { writeFileAtomic } from "./atomic-file.ts";
import { PARTITION_META_FILE } from "./file-names.ts";

export interface PartitionMeta {
  logStartOffset: number;
}

export function readPartitionMeta(dir: string): PartitionMeta | null {
  const path = join(dir, PARTITION_META_FILE);
  if (!fs.existsSync(path)) return null;
  const value: unknown = unpack(fs.readFileSync(path));
  if (typeof value !== "object" || value === null) return null;
  const lso = (value as { logStartOffset?: unknown }).logStartOffset;
  return typeof lso === "number" && Number.isSafeInteger(lso) && lso >= 0 ? { logStartOffset: lso } : null;
}

export function writePartitionMeta(dir: string, meta: PartitionMeta): Promise<void> {
  return writeFileAtomic(join(dir, PARTITION_META_FILE), pack({ v: 1, logStartOffset: meta.logStartOffset }));
}
