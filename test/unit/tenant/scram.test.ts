// SCRAM credential APIs from a tenant: only its members are visible and changeable; other users
// look absent, and their credentials stay untouched.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { codec } from "../../../src/client/wire-client.ts";
import { ErrorCode } from "../../../src/protocol/error-codes.ts";
import { writeDescribeUserScramCredentialsRequest } from "../../../src/protocol/generated/describe-user-scram-credentials-request.ts";
import { readDescribeUserScramCredentialsResponse } from "../../../src/protocol/generated/describe-user-scram-credentials-response.ts";
import { writeAlterUserScramCredentialsRequest } from "../../../src/protocol/generated/alter-user-scram-credentials-request.ts";
import { readAlterUserScramCredentialsResponse } from "../../../src/protocol/generated/alter-user-scram-credentials-response.ts";
import { parseUsersArgs, runUsersCommand } from "../../../src/auth/users-cli.ts";
import { TenantStore } from "../../../src/tenant/tenant-store.ts";
import { openPrincipalBroker, type PrincipalBroker } from "./principal-broker.ts";

const Describe = codec(50, writeDescribeUserScramCredentialsRequest, readDescribeUserScramCredentialsResponse);
const Alter = codec(51, writeAlterUserScramCredentialsRequest, readAlterUserScramCredentialsResponse);
const SCRAM_SHA_256 = 1;

let pb: PrincipalBroker;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "bunka-tenant-scram-"));
  const store = TenantStore.open(dir);
  store.add("acme", 1);
  store.add("globex", 1);
  store.saveSync();
  for (const [user, tenant] of [["alice", "acme"], ["carol", "acme"], ["bob", "globex"], ["root", null]] as const) {
    runUsersCommand(parseUsersArgs(["add", user, "--password", "pw", "--iterations", "4096", ...(tenant ? ["--tenant", tenant] : []), "--data-dir", dir], {}));
  }
  pb = await openPrincipalBroker(dir);
});

afterAll(async () => {
  await pb.close();
});

test("DescribeUserScramCredentials: the tenant's members only", async () => {
  const all = await pb.as("alice")(Describe, 0, { users: null });
  expect(all.results.map((r) => r.user).sort()).toEqual(["alice", "carol"]);
  const named = await pb.as("alice")(Describe, 0, { users: [{ name: "bob" }, { name: "carol" }] });
  expect(named.results.map((r) => [r.user, r.errorCode])).toEqual([["bob", ErrorCode.RESOURCE_NOT_FOUND], ["carol", 0]]);
  expect(named.results[0]!.errorMessage).toBe("Attempt to describe a user credential that does not exist: bob");
  const global = await pb.as("root")(Describe, 0, { users: null });
  expect(global.results.map((r) => r.user).sort()).toEqual(["alice", "bob", "carol", "root"]);
});

test("AlterUserScramCredentials: another tenant's user is refused and keeps its credentials", async () => {
  const res = await pb.as("alice")(Alter, 0, { deletions: [{ name: "bob", mechanism: SCRAM_SHA_256 }, { name: "carol", mechanism: SCRAM_SHA_256 }], upsertions: [] });
  expect(res.results.map((r) => [r.user, r.errorCode]).sort()).toEqual([["bob", ErrorCode.RESOURCE_NOT_FOUND], ["carol", 0]]);
  const bob = await pb.as("root")(Describe, 0, { users: [{ name: "bob" }] });
  expect(bob.results[0]!.credentialInfos.map((c) => c.mechanism).sort()).toEqual([1, 2]);
  const carol = await pb.as("root")(Describe, 0, { users: [{ name: "carol" }] });
  expect(carol.results[0]!.credentialInfos.map((c) => c.mechanism)).toEqual([2]);
});
