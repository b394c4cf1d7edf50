import { AclStore } from "../../../src/acl/acl-store.ts";
import { Authorizer } from "../../../src/acl/authorizer.ts";
const store = AclStore.open(null);
const acls = [];
for (let i = 0; i < 1000; i++) acls.push({ resourceType: 2, resourceName: `t${i}`, patternType: 3, principal: `User:u${i % 50}`, host: "*", operation: 3 + (i % 2), permissionType: 3 });
for (let i = 0; i < 100; i++) acls.push({ resourceType: 2, resourceName: `p${i}-`, patternType: 4, principal: `User:u${i}`, host: "*", operation: 4, permissionType: 3 });
await store.add(acls);
const a = new Authorizer(store, { superUsers: [], allowEveryoneIfNoAclFound: false });
const N = 2_000_000;
function bench(name: string, f: () => boolean) {
  let x = 0; const t0 = performance.now();
  for (let i = 0; i < N; i++) if (f()) x++;
  const ms = performance.now() - t0;
  console.log(`${name}: ${(N / ms * 1000 / 1e6).toFixed(2)} M ops/s (${(ms * 1e6 / N).toFixed(0)} ns/op) allowed=${x}`);
}
bench("uncached decide (1100 ACLs, 100 prefixed)", () => a.decide("User:u7", "127.0.0.1", 4, 2, "t7"));
bench("cached authorize", () => a.authorize("User:u7", "127.0.0.1", 4, 2, "t7"));
const off = null as Authorizer | null;
bench("no authorizer (fast path)", () => off === null || off.authorize("", "", 0, 0, ""));
