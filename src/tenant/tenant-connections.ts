/**
 * Connections per tenant, bounded by its units (units x bunka.tenant.unit.connections). A
 * connection is known to belong to a tenant only once it has authenticated, so it is counted at its
 * first request as that tenant and refused there (the connection is closed, as Kafka closes
 * connections beyond max.connections); a close gives the slot back.
 */
import type { TenantContext } from "./tenant-context.ts";

export class TenantConnections {
  /** Connection id → tenant id, for the connections counted. */
  private readonly owner = new Map<number, string>();
  private readonly counts = new Map<string, number>();

  /** Whether connection `connId` may act for `tenant` (counting it the first time). */
  admit(connId: number, tenant: TenantContext): boolean {
    const id = tenant.tenant.id;
    const current = this.owner.get(connId);
    if (current === id) return true;
    if (current !== undefined) this.release(connId); // the tenant file moved this user meanwhile
    const n = this.counts.get(id) ?? 0;
    if (n >= tenant.limits.connections) return false;
    this.counts.set(id, n + 1);
    this.owner.set(connId, id);
    return true;
  }

  release(connId: number): void {
    const id = this.owner.get(connId);
    if (id === undefined) return;
    this.owner.delete(connId);
    const n = (this.counts.get(id) ?? 1) - 1;
    if (n <= 0) this.counts.delete(id);
    else this.counts.set(id, n);
  }

  countOf(tenantId: string): number {
    return this.counts.get(tenantId) ?? 0;
  }
}
