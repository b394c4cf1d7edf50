/**
 * The ACLs of the broker, kept in `<data>/bunka-acls.msgpack` (same crash-safe write as the metadata
 * store: temp file, fsync, rename, fsync dir). Indexed per resource type into literal names, the
 * literal wildcard and prefixes, so an authorization looks at only the bindings that can apply.
 * `version` grows on every change; decision caches compare it to know they are stale.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pack, unpack } from "msgpackr";
import { writeFileAtomic } from "../log/atomic-file.ts";
import { PatternType, WILDCARD, bindingKey, type AclBinding } from "./types.ts";

export const ACL_FILE_NAME = "bunka-acls.msgpack";

interface StoredAcls {
  version: 1;
  acls: AclBinding[];
}

/** The bindings of one resource type, split by how they match a name. */
export interface TypeIndex {
  literal: Map<string, AclBinding[]>;
  wildcard: AclBinding[];
  prefixed: AclBinding[];
}

export class AclStore {
  private readonly byKey = new Map<string, AclBinding>();
  private index = new Map<number, TypeIndex>();
  private writing: Promise<void> = Promise.resolve();
  /** Bumped on every change. */
  version = 0;

  private constructor(private readonly path: string | null) {}

  /** Opens (or starts empty) the ACL file of a data directory; `null` keeps ACLs in memory only (tests). */
  static open(dataDir: string | null): AclStore {
    const store = new AclStore(dataDir === null ? null : join(dataDir, ACL_FILE_NAME));
    if (store.path !== null && existsSync(store.path)) {
      const state = unpack(readFileSync(store.path)) as StoredAcls;
      if (state?.version !== 1 || !Array.isArray(state.acls)) throw new Error(`${store.path}: unknown ACL file version ${String(state?.version)}`);
      for (const b of state.acls) store.byKey.set(bindingKey(b), b);
      store.reindex();
    }
    return store;
  }

  get size(): number {
    return this.byKey.size;
  }

  all(): IterableIterator<AclBinding> {
    return this.byKey.values();
  }

  /** The bindings of a resource type (undefined when it has none). */
  forType(resourceType: number): TypeIndex | undefined {
    return this.index.get(resourceType);
  }

  /** Adds bindings (already validated); existing ones are kept once. Resolves once durable. */
  add(bindings: readonly AclBinding[]): Promise<void> {
    for (const b of bindings) this.byKey.set(bindingKey(b), { ...b });
    return this.changed();
  }

  /** Removes bindings (as returned by all()/matching); resolves once durable. */
  remove(bindings: readonly AclBinding[]): Promise<void> {
    for (const b of bindings) this.byKey.delete(bindingKey(b));
    return this.changed();
  }

  private changed(): Promise<void> {
    this.version++;
    this.reindex();
    return this.save();
  }

  private reindex(): void {
    const index = new Map<number, TypeIndex>();
    for (const b of this.byKey.values()) {
      let t = index.get(b.resourceType);
      if (!t) index.set(b.resourceType, (t = { literal: new Map(), wildcard: [], prefixed: [] }));
      if (b.patternType === PatternType.PREFIXED) t.prefixed.push(b);
      else if (b.resourceName === WILDCARD) t.wildcard.push(b);
      else {
        const list = t.literal.get(b.resourceName);
        if (list) list.push(b);
        else t.literal.set(b.resourceName, [b]);
      }
    }
    this.index = index;
  }

  private save(): Promise<void> {
    const path = this.path;
    if (path === null) return Promise.resolve();
    const next = this.writing.then(() => {
      const state: StoredAcls = { version: 1, acls: [...this.byKey.values()] };
      return writeFileAtomic(path, pack(state));
    });
    this.writing = next.catch(() => undefined);
    return next;
  }
}
