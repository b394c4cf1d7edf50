/**
 * A tenant's namespace: every topic, group and transactional id a tenant's client names is stored
 * under `__lc-<tenant id>.` + the name it sent. Names starting with `__` are Kafka's convention for
 * internal resources; the tenant id is unique and never reused, so no tenant's client can produce a
 * name inside another tenant's prefix (its own names always get its own prefix in front).
 */
import type { Tenant } from "./tenant-store.ts";
import type { MetadataStore } from "../broker/metadata-store.ts";
import { randomBytes } from "node:crypto";
import { MAX_TOPIC_NAME_LENGTH } from "../broker/topic-names.ts";

export const TENANT_PREFIX_START = "__lc-";

export function tenantPrefix(tenantId: string): string {
  return `${TENANT_PREFIX_START}${tenantId}.`;
}


export class TenantNamespace {
  readonly prefix: string;
  /** Longest topic name a client of this tenant may use (Kafka's 249 minus the prefix). */
  readonly maxTopicNameLength: number;

  constructor(
    readonly tenant: Tenant,
    private readonly metadata: MetadataStore,
  ) {
    this.prefix = tenantPrefix(tenant.id);
    this.maxTopicNameLength = MAX_TOPIC_NAME_LENGTH - this.prefix.length;
  }

  /** Client name -> internal name. */
  in(name: string): string {
    return this.prefix + name;
  }

  inNullable(name: string | null | undefined): string | null {
    return name === null || name === undefined ? null : this.prefix + name;
  }

  owns(internal: string | null | undefined): boolean {
    return internal !== null && internal !== undefined && internal.startsWith(this.prefix);
  }

  /** Internal name -> client name (names outside the namespace are left alone; callers filter those out). */
  out(internal: string): string {
    return internal.startsWith(this.prefix) ? internal.slice(this.prefix.length) : internal;
  }

  outNullable(internal: string | null | undefined): string | null {
    return internal === null || internal === undefined ? null : this.out(internal);
  }

  /** Removes the prefix wherever a handler's message quoted an internal name. */
  text(message: string | null | undefined): string | null {
    if (message === null || message === undefined) return null;
    return message.includes(this.prefix) ? message.split(this.prefix).join("") : message;
  }

  /** Whether a topic id names a topic of another tenant (or the global namespace). */
  foreignTopicId(id: string): boolean {
    const record = this.metadata.topicsById.get(id);
    return record !== undefined && !this.owns(record.name);
  }

  knownTopicId(id: string): boolean {
    return this.metadata.topicsById.has(id);
  }

  topicExists(internal: string): boolean {
    return this.metadata.topics.has(internal);
  }

  /** Partition count of one topic, null when it does not exist. */
  partitionsOf(internal: string): number | null {
    return this.metadata.topics.get(internal)?.partitions ?? null;
  }

  /** Partitions of all the tenant's topics. */
  partitionCount(): number {
    let n = 0;
    for (const [name, t] of this.metadata.topics) if (name.startsWith(this.prefix)) n += t.partitions;
    return n;
  }
}

/**
 * Hides foreign topic ids of one request: each is swapped for a placeholder the broker does not know
 * (so it answers UNKNOWN_TOPIC_ID), and the response gets the id the client sent back.
 */
export class TopicIdMask {
  private readonly hidden = new Map<string, string>();

  constructor(private readonly ns: TenantNamespace) {}

  in(id: string | undefined): string | undefined {
    if (id === undefined || !this.ns.foreignTopicId(id)) return id;
    let placeholder = randomTopicId();
    while (this.ns.knownTopicId(placeholder)) placeholder = randomTopicId();
    this.hidden.set(placeholder, id);
    return placeholder;
  }

  out(id: string | undefined): string | undefined {
    if (id === undefined || this.hidden.size === 0) return id;
    return this.hidden.get(id) ?? id;
  }

  get empty(): boolean {
    return this.hidden.size === 0;
  }
}

function randomTopicId(): string {
  return randomBytes(16).toString("hex");
}
