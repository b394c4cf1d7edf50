// The tenant store and CLI: durability, ids never reused, membership, admission against the measured
// capacity (every dimension, set-units), and the users CLI's --tenant.
import { expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AdmissionError, admit, maxUnits } from "../../../src/tenant/admission.ts";
import { writeCapacity, type MeasuredCapacity } from "../../../src/tenant/capacity-store.ts";
import { TenantError, TenantStore } from "../../../src/tenant/tenant-store.ts";
import { parseTenantsArgs, runTenantsCommand } from "../../../src/tenant/tenants-cli.ts";
import { parseUsersArgs, runUsersCommand, UsageError } from "../../../src/auth/users-cli.ts";
import { TenantNamespace } from "../../../src/tenant/namespace.ts";
import type { MetadataStore } from "../../../src/broker/metadata-store.ts";
import { trackTempDir } from "../../support/temp-dirs.ts";

const MIB = 1024 * 1024;
const capacity = (over: Partial<MeasuredCapacity> = {}): MeasuredCapacity => ({
  ingressBytesPerSec: 10 * MIB, egressBytesPerSec: 100 * MIB, requestsPerSec: 100_000, measuredAtMs: 0, method: "test", ...over,
});
const cli = (dir: string, ...args: string[]) => runTenantsCommand(parseTenantsArgs([...args, "--data-dir", dir]));

test("store: durable, ids never reused after delete, memberships go with the tenant", () => {
  const dir = trackTempDir(mkdtempSync(join(tmpdir(), "bunka-tenant-store-")));
  const s = TenantStore.open(dir);
  expect(s.add("acme", 2).id).toBe("1");
  s.assign("alice", "acme");
  s.saveSync();
  const again = TenantStore.open(dir);
  expect(again.tenantOfUser("alice")?.name).toBe("acme");
  again.delete("acme");
  expect(again.tenantOfUser("alice")).toBeUndefined();
  expect(again.add("acme", 1).id).toBe("2"); // a new acme does not get the old one's prefix (and data)
  expect(() => again.add("acme", 1)).toThrow(TenantError);
  expect(() => again.add("bad name", 1)).toThrow(TenantError);
  expect(() => again.add("zero", 0)).toThrow("units must be");
  expect(() => again.assign("bob", "nope")).toThrow(TenantError);
});

test("admission: all units must fit every measured dimension; no measurement refuses", () => {
  const unit = { ingressBytesPerSec: MIB, egressBytesPerSec: 3 * MIB, requestsPerSec: 1000, connections: 100, partitions: 100, mutationsPerSec: 10 };
  expect(() => admit(1, unit, null, Infinity)).toThrow("has not been measured");
  expect(maxUnits(unit, capacity(), Infinity)).toBe(10);
  admit(10, unit, capacity(), Infinity);
  expect(() => admit(11, unit, capacity(), Infinity)).toThrow(AdmissionError);
  expect(() => admit(11, unit, capacity(), Infinity)).toThrow("ingress 11.0 MiB/s > measured 10.0 MiB/s");
  expect(() => admit(4, unit, capacity({ egressBytesPerSec: 9 * MIB }), Infinity)).toThrow("egress");
  expect(() => admit(2, unit, capacity({ requestsPerSec: 1500 }), Infinity)).toThrow("requests 2000/s > measured 1500/s");
  expect(() => admit(3, unit, capacity(), 250)).toThrow("connections 300 > max.connections 250");
});

test("CLI: add / set-units / list / delete with admission; users add --tenant", () => {
  const dir = trackTempDir(mkdtempSync(join(tmpdir(), "bunka-tenant-cli-")));
  expect(() => cli(dir, "add", "acme", "--units", "1")).toThrow("has not been measured");
  writeCapacity(dir, capacity());
  expect(cli(dir, "add", "acme", "--units", "6")).toEqual(["tenant acme (id 1): 6 units"]);
  expect(() => cli(dir, "add", "globex", "--units", "5")).toThrow("over capacity: 11 units");
  expect(cli(dir, "add", "globex", "--units", "4")).toEqual(["tenant globex (id 2): 4 units"]);
  expect(() => cli(dir, "set-units", "globex", "--units", "5")).toThrow(AdmissionError);
  expect(cli(dir, "set-units", "acme", "--units", "2")).toEqual(["tenant acme: 2 units"]); // shrinking needs no admission
  expect(cli(dir, "set-units", "globex", "--units", "8")).toEqual(["tenant globex: 8 units"]);
  runUsersCommand(parseUsersArgs(["add", "alice", "--password", "pw", "--iterations", "4096", "--tenant", "acme", "--data-dir", dir], {}));
  expect(() => runUsersCommand(parseUsersArgs(["add", "eve", "--password", "pw", "--tenant", "nope", "--data-dir", dir], {}))).toThrow(UsageError);
  const list = cli(dir, "list");
  expect(list[0]).toStartWith("acme\tid=1\tunits=2\tingress=2.0MiB/s\tegress=6.0MiB/s\trequests=2000/s\tconnections=200\tpartitions=200\tusers=alice");
  expect(cli(dir, "delete", "acme")[0]).toContain("deleted");
  expect(TenantStore.open(dir).tenantOfUser("alice")).toBeUndefined();
});

test("namespace: prefix in and out, messages cleaned, the client-visible name length leaves room for the prefix", () => {
  const ns = new TenantNamespace({ name: "acme", id: "z", units: 1, createdAtMs: 0 }, { topics: new Map(), topicsById: new Map() } as unknown as MetadataStore);
  expect(ns.in("orders")).toBe("__lc-z.orders");
  expect(ns.out("__lc-z.orders")).toBe("orders");
  expect(ns.owns("__lc-z.orders")).toBe(true);
  expect(ns.owns("__lc-zz.orders")).toBe(false);
  expect(ns.text("Topic '__lc-z.orders' already exists.")).toBe("Topic 'orders' already exists.");
  expect(ns.maxTopicNameLength).toBe(249 - "__lc-z.".length);
});
