/**
 * The `.snapshot` files of one partition directory (format: producer-snapshot.ts). Writes are
 * crash-safe (temp + fsync + rename + fsync dir) and run one after another off the append path;
 * deletions are queued behind them, so a delete never races a write of the same file. A failed
 * write is remembered, never thrown: a missing snapshot only makes the next open scan further back.
 */
import * as fs from "node:fs";
import { writeFileAtomic } from "./atomic-file.ts";
import {
  decodeProducerSnapshot,
  parseSnapshotFileName,
  snapshotFilePath,
  type ProducerSnapshot,
} from "./producer-snapshot.ts";

export class ProducerSnapshotFiles {
  private queue: Promise<void> = Promise.resolve();
  lastError: Error | null = null;
  /** Corrupt files found (and removed) by reads; for tests and logs. */
  corruptFound = 0;

  constructor(readonly dir: string) {}

  /** Offsets of the snapshot files present, ascending. */
  offsets(): number[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return [];
    }
    return names
      .map(parseSnapshotFileName)
      .filter((o): o is number => o !== null)
      .sort((a, b) => a - b);
  }

  path(offset: number): string {
    return snapshotFilePath(this.dir, offset);
  }

  write(offset: number, bytes: Uint8Array): Promise<void> {
    const p = this.queue
      .then(() => writeFileAtomic(this.path(offset), bytes))
      .catch((e: unknown) => {
        this.lastError = e instanceof Error ? e : new Error(String(e));
      });
    this.queue = p;
    return p;
  }

  /** Resolves once every write and delete queued so far has finished. */
  settled(): Promise<void> {
    return this.queue;
  }

  /** The snapshot at `offset`, or null when missing or corrupt (a corrupt file is removed). */
  read(offset: number): ProducerSnapshot | null {
    const path = this.path(offset);
    let bytes: Uint8Array;
    try {
      bytes = fs.readFileSync(path);
    } catch {
      return null;
    }
    try {
      const snap = decodeProducerSnapshot(bytes);
      if (snap.offset !== offset) throw new Error(`${path} holds offset ${snap.offset}`);
      return snap;
    } catch {
      this.corruptFound++;
      fs.rmSync(path, { force: true });
      return null;
    }
  }

  /** The newest valid snapshot with min <= offset <= max, skipping (and removing) corrupt ones. */
  newest(min: number, max: number): ProducerSnapshot | null {
    const offsets = this.offsets();
    for (let i = offsets.length - 1; i >= 0; i--) {
      const o = offsets[i] as number;
      if (o > max || o < min) continue;
      const snap = this.read(o);
      if (snap !== null) return snap;
    }
    return null;
  }

  /** Removes, now, every snapshot outside [min, max] (used while opening, before any write). */
  retainSync(min: number, max: number): void {
    for (const o of this.offsets()) if (o < min || o > max) fs.rmSync(this.path(o), { force: true });
  }

  /** Removes every snapshot below `min`, after the queued writes. */
  deleteBelow(min: number): void {
    this.queue = this.queue.then(() => this.retainSync(min, Number.MAX_SAFE_INTEGER)).catch(() => {});
  }
}
