/**
 * Which tenant a connection acts for. One TenantService per broker (opened on first use, like the
 * quota manager): the tenant file, the unit definition and, per tenant, a context with its namespace,
 * limits and partition-creation rate. Principals with no tenant, super users and unauthenticated
 * connections get null: the global, untranslated namespace. Edits of the tenant file made while
 * the broker runs apply within a second (to open connections too, from their next request).
 */
import { statSync } from "node:fs";
import type { Broker } from "../broker/broker.ts";
import { brokerConfigValue } from "../config/broker-config.ts";
import type { ConnectionContext } from "../net/connection.ts";
import { SampledRate } from "../quota/sampled-rate.ts";
import type { TenantQuotaLimits } from "../quota/tenant-quotas.ts";
import { TenantNamespace } from "./namespace.ts";
import { TenantConnections } from "./tenant-connections.ts";
import { TenantStore, type Tenant } from "./tenant-store.ts";
import { scaleUnit, unitDefinition, type UnitDefinition } from "./unit.ts";

export interface TenantContext {
  readonly tenant: Tenant;
  readonly ns: TenantNamespace;
  /** One unit, and this tenant's limits (units x unit). */
  readonly unit: UnitDefinition;
  readonly limits: UnitDefinition;
  /** Partitions created per second (KIP-599). */
  readonly mutationRate: SampledRate;
  /** Byte and request rates enforced by the quota hook. */
  readonly quota: TenantQuotaLimits;
  /** Whether a user belongs to this tenant. */
  isMember(user: string): boolean;
  /** Partitions of an auto-created topic (num.partitions). */
  readonly defaultPartitions: number;
  /** auto.create.topics.enable */
  readonly autoCreateTopics: boolean;
}

const USER_PREFIX = "User:";
const RELOAD_CHECK_MS = 1000;

export class TenantService {
  private readonly byTenant = new Map<string, TenantContext>();
  private readonly byPrincipal = new Map<string, TenantContext | null>();
  /** Partition creation rates by tenant id, kept across reloads. */
  private readonly mutationRates = new Map<string, SampledRate>();
  private readonly superUsers: ReadonlySet<string>;
  private readonly unit: UnitDefinition;
  private fileMtimeMs: number;
  private nextCheckMs = 0;
  /** Whether any tenant exists (no tenants: dispatch skips translation entirely). */
  active: boolean;
  /** Open connections per tenant (kept across reloads of the tenant file). */
  readonly connections = new TenantConnections();

  constructor(
    private store: TenantStore,
    private readonly broker: Pick<Broker, "config" | "store">,
  ) {
    this.unit = unitDefinition(broker.config);
    this.active = store.list().length > 0;
    this.fileMtimeMs = mtimeOf(store.path);
    const su = (brokerConfigValue(broker.config, "super.users") as string | null) ?? "";
    this.superUsers = new Set(su.split(";").map((s) => s.trim()).filter((s) => s !== ""));
  }

  /**
   * Picks up changes `bun run tenants` made while the broker runs (the broker never writes the
   * file, so there is nothing to merge): checked at most once per second, on a request.
   */
  maybeReload(nowMs: number): void {
    if (nowMs < this.nextCheckMs) return;
    this.nextCheckMs = nowMs + RELOAD_CHECK_MS;
    const mtime = mtimeOf(this.store.path);
    if (mtime === this.fileMtimeMs) return;
    let fresh: TenantStore;
    try {
      fresh = TenantStore.open(this.broker.config.dataDir);
    } catch {
      return; // a damaged file: keep serving the tenants we have
    }
    this.fileMtimeMs = mtime;
    this.store = fresh;
    this.active = fresh.list().length > 0;
    this.byTenant.clear();
    this.byPrincipal.clear();
  }

  forPrincipal(principal: string | undefined): TenantContext | null {
    if (principal === undefined) return null;
    let ctx = this.byPrincipal.get(principal);
    if (ctx !== undefined) return ctx;
    ctx = null;
    if (principal.startsWith(USER_PREFIX) && !this.superUsers.has(principal)) {
      const tenant = this.store.tenantOfUser(principal.slice(USER_PREFIX.length));
      if (tenant) ctx = this.forTenant(tenant);
    }
    this.byPrincipal.set(principal, ctx);
    return ctx;
  }

  private mutationRateOf(id: string): SampledRate {
    let r = this.mutationRates.get(id);
    if (!r) this.mutationRates.set(id, (r = new SampledRate(11, 1000)));
    return r;
  }

  forTenant(tenant: Tenant): TenantContext {
    let ctx = this.byTenant.get(tenant.name);
    if (!ctx) {
      const limits = scaleUnit(this.unit, tenant.units);
      const ns = new TenantNamespace(tenant, this.broker.store);
      ctx = {
        tenant,
        ns,
        unit: this.unit,
        limits,
        isMember: (user) => this.store.tenantOfUser(user)?.name === tenant.name,
        quota: { id: tenant.id, clientIdPrefix: ns.prefix, produceBytesPerSec: limits.ingressBytesPerSec, fetchBytesPerSec: limits.egressBytesPerSec, requestsPerSec: limits.requestsPerSec },
        mutationRate: this.mutationRateOf(tenant.id),
        defaultPartitions: this.broker.config.numPartitions,
        autoCreateTopics: this.broker.config.autoCreateTopics,
      };
      this.byTenant.set(tenant.name, ctx);
    }
    return ctx;
  }
}

function mtimeOf(path: string): number {
  return statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? -1;
}

const services = new WeakMap<object, TenantService>();

export function tenantServiceFor(broker: Pick<Broker, "config" | "store">): TenantService {
  let s = services.get(broker);
  if (!s) {
    s = new TenantService(TenantStore.open(broker.config.dataDir), broker);
    services.set(broker, s);
  }
  return s;
}

/** Gives a closed connection's tenant slot back (Broker.onConnectionClosed). */
export function releaseTenantConnection(broker: Pick<Broker, "config" | "store">, conn: ConnectionContext): void {
  services.get(broker)?.connections.release(conn.id);
}

/** The tenant a request acts for, or null for the global namespace. */
export function tenantOf(broker: Pick<Broker, "config" | "store">, conn: ConnectionContext): TenantContext | null {
  const s = tenantServiceFor(broker);
  s.maybeReload(Date.now());
  return s.active ? s.forPrincipal(conn.principal) : null;
}
