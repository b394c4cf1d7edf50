/**
 * Tenants (logical clusters) and which user belongs to which, kept in
 * `<data dir>/bunka-tenants.msgpack` and written crash-safely like the credential store. The broker
 * reads it at startup; `bun run tenants` / `bun run users -- add --tenant` edit it offline.
 *
 * A tenant's id is handed out once and never reused, so a tenant created again under the name of a
 * deleted one does not inherit the deleted one's topics (they stay under the old id's prefix).
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pack, unpack } from "msgpackr";
import { writeFileAtomicSync } from "../log/atomic-file.ts";

export const TENANTS_FILE = "bunka-tenants.msgpack";

export interface Tenant {
  name: string;
  /** Short, never reused; the internal name prefix is derived from it (namespace.ts). */
  id: string;
  /** Capacity units (unit.ts); quotas and limits are units x the unit definition. */
  units: number;
  createdAtMs: number;
}

interface StoredTenants {
  version: 1;
  nextId: number;
  tenants: Tenant[];
  /** user name -> tenant name */
  members: Record<string, string>;
}

/** Tenant names as Kafka resource names are usually written; kept short so prefixes stay short. */
const TENANT_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/;

export class TenantError extends Error {}

export class TenantStore {
  private readonly tenants = new Map<string, Tenant>();
  private readonly members = new Map<string, string>();
  private nextId = 1;

  private constructor(readonly path: string) {}

  static open(dataDir: string): TenantStore {
    const store = new TenantStore(join(dataDir, TENANTS_FILE));
    if (!existsSync(store.path)) return store;
    const state = unpack(readFileSync(store.path)) as StoredTenants;
    if (state?.version !== 1) throw new Error(`${store.path}: unknown tenants version ${String(state?.version)}`);
    store.nextId = state.nextId;
    for (const t of state.tenants) store.tenants.set(t.name, { ...t });
    for (const [user, tenant] of Object.entries(state.members)) store.members.set(user, tenant);
    return store;
  }

  list(): Tenant[] {
    return [...this.tenants.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): Tenant | undefined {
    return this.tenants.get(name);
  }

  /** The tenant of a user, if any. */
  tenantOfUser(user: string): Tenant | undefined {
    const name = this.members.get(user);
    return name === undefined ? undefined : this.tenants.get(name);
  }

  usersOf(tenant: string): string[] {
    return [...this.members].filter(([, t]) => t === tenant).map(([u]) => u).sort();
  }

  add(name: string, units: number, nowMs = Date.now()): Tenant {
    if (!TENANT_NAME.test(name)) throw new TenantError(`tenant name "${name}" is invalid: 1-64 of [a-zA-Z0-9._-], starting with a letter or digit`);
    if (this.tenants.has(name)) throw new TenantError(`tenant ${name} already exists`);
    checkUnits(units);
    const t: Tenant = { name, id: (this.nextId++).toString(36), units, createdAtMs: nowMs };
    this.tenants.set(name, t);
    return t;
  }

  setUnits(name: string, units: number): Tenant {
    const t = this.tenants.get(name);
    if (!t) throw new TenantError(`no tenant ${name}`);
    checkUnits(units);
    t.units = units;
    return t;
  }

  /** Removes the tenant and its memberships; its data stays under its (never reused) prefix. */
  delete(name: string): void {
    if (!this.tenants.delete(name)) throw new TenantError(`no tenant ${name}`);
    for (const [u, t] of this.members) if (t === name) this.members.delete(u);
  }

  assign(user: string, tenant: string): void {
    if (!this.tenants.has(tenant)) throw new TenantError(`no tenant ${tenant}`);
    this.members.set(user, tenant);
  }

  unassign(user: string): boolean {
    return this.members.delete(user);
  }

  saveSync(): void {
    mkdirSync(dirname(this.path), { recursive: true }); // tenants may be set up before the broker's first start
    const state: StoredTenants = { version: 1, nextId: this.nextId, tenants: this.list(), members: Object.fromEntries(this.members) };
    writeFileAtomicSync(this.path, pack(state));
  }
}

function checkUnits(units: number): void {
  if (!Number.isInteger(units) || units < 1) throw new TenantError(`units must be a whole number of at least 1 (got ${units})`);
}
