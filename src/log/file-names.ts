/**
 * File names inside a partition directory. Segment files are named by their base offset,
 * zero-padded to 20 digits so that `ls` (and a plain string sort) orders them numerically:
 *   00000000000000000000.log        record batches
 *   00000000000000000000.index      sparse offset index
 *   00000000000000000000.timeindex  sparse time index
 * plus `partition.meta` (msgpack, see partition-meta.ts) and `recovery-point` (msgpack, see
 * recovery-point.ts). Files being deleted carry a
 * `.deleted` suffix; temp files of atomic writes end in `.tmp`.
 */
import { join } from "node:path";

export const LOG_SUFFIX = ".log";
export const INDEX_SUFFIX = ".index";
export const TIME_INDEX_SUFFIX = ".timeindex";
export const DELETED_SUFFIX = ".deleted";
export const TMP_SUFFIX = ".tmp";
export const PARTITION_META_FILE = "partition.meta";
export const RECOVERY_POINT_FILE = "recovery-point";

/** The conventional directory name of a partition under the data root: `<topic>-<partition>`. */
export function partitionDirName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

export function offsetFileStem(baseOffset: number): string {
  return String(baseOffset).padStart(20, "0");
}

export function logFilePath(dir: string, baseOffset: number): string {
  return join(dir, offsetFileStem(baseOffset) + LOG_SUFFIX);
}

export function indexFilePath(dir: string, baseOffset: number): string {
  return join(dir, offsetFileStem(baseOffset) + INDEX_SUFFIX);
}

export function timeIndexFilePath(dir: string, baseOffset: number): string {
  return join(dir, offsetFileStem(baseOffset) + TIME_INDEX_SUFFIX);
}

/** Base offset of a `.log` file name, or null when the name is not a segment log file. */
export function parseLogFileName(name: string): number | null {
  const m = /^(\d{20})\.log$/.exec(name);
  return m?.[1] === undefined ? null : Number(m[1]);
}
