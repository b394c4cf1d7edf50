/**
 * Crash-safe small-file writes: write a temp file next to the target, fsync it, rename it over the
 * target, fsync the directory. After a crash the target holds either the old or the new content,
 * never a mix: rename is atomic on POSIX file systems, the file fsync makes the new content durable
 * before the rename can become visible, and the directory fsync makes the rename itself durable.
 */
import * as fs from "node:fs";
import { promisify } from "node:util";
import { dirname } from "node:path";
import { TMP_SUFFIX } from "./file-names.ts";

const fsyncAsync = promisify(fs.fsync);
const closeAsync = promisify(fs.close);

export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const tmp = path + TMP_SUFFIX;
  const fd = await fs.promises.open(tmp, "w");
  try {
    await fd.writeFile(data);
    await fd.sync();
  } finally {
    await fd.close();
  }
  await fs.promises.rename(tmp, path);
  await fsyncDirectory(dirname(path));
}

export function writeFileAtomicSync(path: string, data: Uint8Array): void {
  const tmp = path + TMP_SUFFIX;
  const fd = fs.openSync(tmp, "w");
  try {
    let off = 0;
    while (off < data.length) off += fs.writeSync(fd, data, off, data.length - off);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path);
  fsyncDirectorySync(dirname(path));
}

/** fsync of a directory makes entries created, renamed or removed in it durable. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const fd = fs.openSync(dir, "r");
  try {
    await fsyncAsync(fd);
  } finally {
    await closeAsync(fd);
  }
}

export function fsyncDirectorySync(dir: string): void {
  const fd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
