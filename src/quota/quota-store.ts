/**
 * The configured client quotas, kept in `<data>/bunka-client-quotas.msgpack` with the same
 * crash-safe write as the metadata file (temp + fsync + rename + fsync dir): after a crash the file
 * holds the old or the new set, never a mix. Writes are chained; each caller awaits its own.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pack, unpack } from "msgpackr";
import { writeFileAtomic } from "../log/atomic-file.ts";
import { entityKey, type QuotaEntity, type QuotaValues } from "./entity.ts";

export const QUOTA_FILE = "bunka-client-quotas.msgpack";

interface StoredQuotas {
  version: 1;
  entries: { entity: QuotaEntity; values: QuotaValues }[];
}

export interface QuotaEntry {
  entity: QuotaEntity;
  values: QuotaValues;
}

export class QuotaStore {
  private readonly entries = new Map<string, QuotaEntry>();
  private writing: Promise<void> = Promise.resolve();
  /** Bumped on every change, so resolved quotas cached by the manager know they are stale. */
  generation = 0;

  private constructor(private readonly path: string) {}

  static open(dataDir: string): QuotaStore {
    const store = new QuotaStore(join(dataDir, QUOTA_FILE));
    if (!existsSync(store.path)) return store;
    const state = unpack(readFileSync(store.path)) as StoredQuotas;
    if (state?.version !== 1) throw new Error(`${store.path}: unknown client-quota file version ${String(state?.version)}`);
    for (const e of state.entries) store.entries.set(entityKey(e.entity), { entity: e.entity, values: { ...e.values } });
    return store;
  }

  get(entity: QuotaEntity): QuotaValues | undefined {
    return this.entries.get(entityKey(entity))?.values;
  }

  all(): QuotaEntry[] {
    return [...this.entries.values()];
  }

  /** Sets (number) or removes (null) keys of one entity; an entity left without keys disappears. */
  apply(entity: QuotaEntity, changes: Record<string, number | null>): void {
    const key = entityKey(entity);
    const values = { ...(this.entries.get(key)?.values ?? {}) };
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) delete values[k];
      else values[k] = v;
    }
    if (Object.keys(values).length === 0) this.entries.delete(key);
    else this.entries.set(key, { entity: { ...entity }, values });
    this.generation++;
  }

  save(): Promise<void> {
    const next = this.writing.then(() => {
      const state: StoredQuotas = { version: 1, entries: this.all() };
      return writeFileAtomic(this.path, pack(state));
    });
    this.writing = next.catch(() => {});
    return next;
  }
}
