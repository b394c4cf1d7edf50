import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AclStore } from "../../../src/acl/acl-store.ts";
import { Authorizer, allows } from "../../../src/acl/authorizer.ts";
import { filterMatches } from "../../../src/acl/filter.ts";
import { AclOperation as Op, AclPermission as Perm, PatternType as Pat, ResourceType as RT, type AclBinding, type AclBindingFilter } from "../../../src/acl/types.ts";
import { validateBinding, validateFilter } from "../../../src/acl/validate.ts";

const acl = (p: Partial<AclBinding>): AclBinding => ({
  resourceType: RT.TOPIC, resourceName: "orders", patternType: Pat.LITERAL, principal: "User:alice",
  host: "*", operation: Op.READ, permissionType: Perm.ALLOW, ...p,
});
const H = "127.0.0.1";

async function authz(bindings: AclBinding[], opts: { superUsers?: string[]; allowIfNone?: boolean } = {}) {
  const store = AclStore.open(null);
  await store.add(bindings);
  return new Authorizer(store, { superUsers: opts.superUsers ?? [], allowEveryoneIfNoAclFound: opts.allowIfNone ?? false });
}

describe("authorizer decisions", () => {
  test("literal ACL allows only the named resource, principal and op", async () => {
    const a = await authz([acl({})]);
    expect(a.authorize("User:alice", H, Op.READ, RT.TOPIC, "orders")).toBe(true);
    expect(a.authorize("User:alice", H, Op.WRITE, RT.TOPIC, "orders")).toBe(false);
    expect(a.authorize("User:bob", H, Op.READ, RT.TOPIC, "orders")).toBe(false);
    expect(a.authorize("User:alice", H, Op.READ, RT.TOPIC, "orders2")).toBe(false);
    expect(a.authorize("User:alice", H, Op.READ, RT.GROUP, "orders")).toBe(false);
  });
  test("prefixed, wildcard name, wildcard principal, host", async () => {
    const a = await authz([
      acl({ resourceName: "team-", patternType: Pat.PREFIXED, operation: Op.WRITE }),
      acl({ resourceName: "*", principal: "User:*", operation: Op.DESCRIBE }),
      acl({ resourceName: "pinned", host: "10.0.0.1", operation: Op.READ }),
    ]);
    expect(a.authorize("User:alice", H, Op.WRITE, RT.TOPIC, "team-a")).toBe(true);
    expect(a.authorize("User:alice", H, Op.WRITE, RT.TOPIC, "team")).toBe(false);
    expect(a.authorize("User:bob", H, Op.DESCRIBE, RT.TOPIC, "anything")).toBe(true);
    expect(a.authorize("User:alice", H, Op.READ, RT.TOPIC, "pinned")).toBe(false);
    expect(a.authorize("User:alice", "10.0.0.1", Op.READ, RT.TOPIC, "pinned")).toBe(true);
  });
  test("DENY wins over ALLOW, ALL matches every op, deny does not imply", async () => {
    const a = await authz([
      acl({ operation: Op.ALL }),
      acl({ principal: "User:*", operation: Op.WRITE, permissionType: Perm.DENY }),
    ]);
    expect(a.authorize("User:alice", H, Op.READ, RT.TOPIC, "orders")).toBe(true);
    expect(a.authorize("User:alice", H, Op.DELETE, RT.TOPIC, "orders")).toBe(true);
    expect(a.authorize("User:alice", H, Op.WRITE, RT.TOPIC, "orders")).toBe(false);
    expect(a.authorize("User:alice", H, Op.DESCRIBE, RT.TOPIC, "orders")).toBe(true);
    const b = await authz([acl({ operation: Op.ALL, permissionType: Perm.DENY, resourceName: "o", patternType: Pat.PREFIXED }), acl({ operation: Op.ALL })]);
    expect(b.authorize("User:alice", H, Op.READ, RT.TOPIC, "orders")).toBe(false);
  });
  test("implied operations", () => {
    for (const g of [Op.READ, Op.WRITE, Op.DELETE, Op.ALTER]) expect(allows(g, Op.DESCRIBE)).toBe(true);
    expect(allows(Op.CREATE, Op.DESCRIBE)).toBe(false);
    expect(allows(Op.ALTER_CONFIGS, Op.DESCRIBE_CONFIGS)).toBe(true);
    expect(allows(Op.DESCRIBE_CONFIGS, Op.ALTER_CONFIGS)).toBe(false);
    expect(allows(Op.READ, Op.WRITE)).toBe(false);
  });
  test("super users bypass; allow.everyone.if.no.acl.found only where no ACL exists", async () => {
    const a = await authz([acl({})], { superUsers: ["User:admin"], allowIfNone: true });
    expect(a.authorize("User:admin", H, Op.DELETE, RT.CLUSTER, "kafka-cluster")).toBe(true);
    expect(a.authorize("User:bob", H, Op.READ, RT.TOPIC, "free")).toBe(true);
    expect(a.authorize("User:bob", H, Op.READ, RT.TOPIC, "orders")).toBe(false);
    const strict = await authz([acl({})]);
    expect(strict.authorize("User:bob", H, Op.READ, RT.TOPIC, "free")).toBe(false);
  });
  test("cache is invalidated by changes", async () => {
    const store = AclStore.open(null);
    const a = new Authorizer(store, { superUsers: [], allowEveryoneIfNoAclFound: false });
    expect(a.authorize("User:alice", H, Op.READ, RT.TOPIC, "orders")).toBe(false);
    await store.add([acl({})]);
    expect(a.authorize("User:alice", H, Op.READ, RT.TOPIC, "orders")).toBe(true);
    await store.remove([acl({})]);
    expect(a.authorize("User:alice", H, Op.READ, RT.TOPIC, "orders")).toBe(false);
  });
});

describe("filters", () => {
  const stored = [
    acl({}),
    acl({ resourceName: "ord", patternType: Pat.PREFIXED }),
    acl({ resourceName: "*", operation: Op.WRITE }),
    acl({ resourceType: RT.GROUP, resourceName: "g1", principal: "User:bob" }),
  ];
  const f = (p: Partial<AclBindingFilter>): AclBindingFilter => ({
    resourceType: RT.ANY, resourceName: null, patternType: Pat.ANY, principal: null, host: null, operation: Op.ANY, permissionType: Perm.ANY, ...p,
  });
  const names = (flt: AclBindingFilter) => stored.filter((b) => filterMatches(flt, b)).map((b) => `${b.resourceType}:${b.resourceName}:${b.patternType}`);
  test("ANY matches all; LITERAL/PREFIXED exact; MATCH covers applicable patterns", () => {
    expect(names(f({}))).toHaveLength(4);
    expect(names(f({ resourceType: RT.TOPIC, resourceName: "orders", patternType: Pat.LITERAL }))).toEqual(["2:orders:3"]);
    expect(names(f({ resourceType: RT.TOPIC, resourceName: "orders", patternType: Pat.ANY }))).toEqual(["2:orders:3"]);
    expect(names(f({ resourceType: RT.TOPIC, resourceName: "ord", patternType: Pat.PREFIXED }))).toEqual(["2:ord:4"]);
    expect(names(f({ resourceType: RT.TOPIC, resourceName: "orders", patternType: Pat.MATCH }))).toEqual(["2:orders:3", "2:ord:4", "2:*:3"]);
    expect(names(f({ principal: "User:bob" }))).toEqual(["3:g1:3"]);
    expect(names(f({ operation: Op.WRITE }))).toEqual(["2:*:3"]);
  });
  test("validation", () => {
    expect(validateBinding(acl({}))).toBeNull();
    expect(validateBinding(acl({ patternType: Pat.MATCH }))).not.toBeNull();
    expect(validateBinding(acl({ resourceType: RT.ANY }))).not.toBeNull();
    expect(validateBinding(acl({ operation: Op.ANY }))).not.toBeNull();
    expect(validateBinding(acl({ principal: "alice" }))).not.toBeNull();
    expect(validateBinding(acl({ resourceType: RT.CLUSTER, resourceName: "x" }))).not.toBeNull();
    expect(validateFilter(f({}))).toBeNull();
    expect(validateFilter(f({ operation: Op.UNKNOWN }))).not.toBeNull();
  });
});

describe("persistence", () => {
  const dir = mkdtempSync(join(tmpdir(), "bunka-acl-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  test("bindings survive reopen; removals too", async () => {
    const s1 = AclStore.open(dir);
    await s1.add([acl({}), acl({ operation: Op.WRITE }), acl({})]);
    expect(s1.size).toBe(2);
    const s2 = AclStore.open(dir);
    expect([...s2.all()].map((b) => b.operation).sort()).toEqual([Op.READ, Op.WRITE]);
    await s2.remove([acl({ operation: Op.WRITE })]);
    const s3 = AclStore.open(dir);
    expect(s3.size).toBe(1);
    const a = new Authorizer(s3, { superUsers: [], allowEveryoneIfNoAclFound: false });
    expect(a.authorize("User:alice", H, Op.READ, RT.TOPIC, "orders")).toBe(true);
  });
});
