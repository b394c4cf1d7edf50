/**
 * An ObjectStore in a local directory: key `a/b/c` is the file `<root>/a/b/c`. The embedded default
 * (`bunka.tier.store=fs`), so tiering works with nothing else running; it also serves tests.
 * Writes go to a temp file (`<name>.upload-<n>`) that is fsynced and renamed over the target, then
 * the directory is fsynced: a reader or a crash never sees a partial object, and an object the
 * manifest names survives a power loss. Temp files left by a crash are removed by `init`.
 */
import * as fs from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fsyncDirectory } from "../log/atomic-file.ts";
import { checkKey, ObjectNotFoundError, type ObjectInfo, type ObjectStore } from "./object-store.ts";

const TEMP_MARK = ".upload-";

export class FsObjectStore implements ObjectStore {
  private seq = 0;

  constructor(readonly root: string) {}

  get description(): string {
    return `directory ${this.root}`;
  }

  async init(): Promise<void> {
    await fs.promises.mkdir(this.root, { recursive: true });
    for (const file of await walk(this.root)) {
      if (file.includes(TEMP_MARK)) await fs.promises.rm(file, { force: true });
    }
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    const target = this.pathOf(key);
    await this.replace(target, async (tmp) => {
      const fd = await fs.promises.open(tmp, "w");
      try {
        await fd.writeFile(data);
        await fd.sync();
      } finally {
        await fd.close();
      }
    });
  }

  async putFile(key: string, path: string): Promise<void> {
    const target = this.pathOf(key);
    await this.replace(target, async (tmp) => {
      await fs.promises.copyFile(path, tmp);
      const fd = await fs.promises.open(tmp, "r+");
      try {
        await fd.sync();
      } finally {
        await fd.close();
      }
    });
  }

  async getRange(key: string, start: number, length: number): Promise<Uint8Array> {
    const path = this.pathOf(key);
    let fd: fs.promises.FileHandle;
    try {
      fd = await fs.promises.open(path, "r");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new ObjectNotFoundError(key);
      throw e;
    }
    try {
      const out = Buffer.allocUnsafe(Math.max(0, length));
      let done = 0;
      while (done < length) {
        const { bytesRead } = await fd.read(out, done, length - done, start + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done === length ? out : out.subarray(0, done);
    } finally {
      await fd.close();
    }
  }

  async get(key: string): Promise<Uint8Array | null> {
    try {
      return new Uint8Array(await fs.promises.readFile(this.pathOf(key)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    await fs.promises.rm(this.pathOf(key), { force: true });
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    // Walk only the deepest directory the prefix names, then filter by the full prefix.
    const slash = prefix.lastIndexOf("/");
    const base = slash < 0 ? this.root : join(this.root, prefix.slice(0, slash));
    const out: ObjectInfo[] = [];
    for (const file of await walk(base)) {
      if (file.includes(TEMP_MARK)) continue;
      const key = relative(this.root, file).split(sep).join("/");
      if (!key.startsWith(prefix)) continue;
      try {
        out.push({ key, size: (await fs.promises.stat(file)).size });
      } catch {
        // Deleted while listing.
      }
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  private pathOf(key: string): string {
    checkKey(key);
    return join(this.root, key);
  }

  private async replace(target: string, write: (tmp: string) => Promise<void>): Promise<void> {
    const dir = dirname(target);
    await fs.promises.mkdir(dir, { recursive: true });
    const tmp = `${target}${TEMP_MARK}${process.pid}-${++this.seq}`;
    try {
      await write(tmp);
      await fs.promises.rename(tmp, target);
    } catch (e) {
      await fs.promises.rm(tmp, { force: true });
      throw e;
    }
    await fsyncDirectory(dir);
  }
}

async function walk(dir: string): Promise<string[]> {
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  const out: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}
