// A tenant's ACLs live in its namespace: created with client names and stored under its prefix
// (LITERAL * becomes PREFIXED on the prefix), described and deleted only within it; broker-wide
// resource types are refused to tenants. The authorizer enforces them on the internal names.
import { afterAll, beforeAll, expect, test } from "bun:test";
import * as C from "../../../src/client/codecs.ts";
import { codec } from "../../../src/client/wire-client.ts";
import { buildRecordBatch } from "../../../src/client/record-batch-builder.ts";
import { ErrorCode } from "../../../src/protocol/error-codes.ts";
import { writeCreateAclsRequest } from "../../../src/protocol/generated/create-acls-request.ts";
import { readCreateAclsResponse } from "../../../src/protocol/generated/create-acls-response.ts";
import { writeDescribeAclsRequest } from "../../../src/protocol/generated/describe-acls-request.ts";
import { readDescribeAclsResponse, type DescribeAclsResponse } from "../../../src/protocol/generated/describe-acls-response.ts";
import { writeDeleteAclsRequest } from "../../../src/protocol/generated/delete-acls-request.ts";
import { readDeleteAclsResponse } from "../../../src/protocol/generated/delete-acls-response.ts";
import { AclOperation, AclPermission, PatternType, ResourceType } from "../../../src/acl/types.ts";
import { openTwoTenantBroker, type PrincipalBroker } from "./principal-broker.ts";

const CreateAcls = codec(30, writeCreateAclsRequest, readCreateAclsResponse);
const DescribeAcls = codec(29, writeDescribeAclsRequest, readDescribeAclsResponse);
const DeleteAcls = codec(31, writeDeleteAclsRequest, readDeleteAclsResponse);

let pb: PrincipalBroker;

const allow = (resourceType: number, resourceName: string, patternType: number, principal: string, operation: number) => ({
  resourceType, resourceName, resourcePatternType: patternType, principal, host: "*", operation, permissionType: AclPermission.ALLOW,
});
const anyFilter = { resourceTypeFilter: ResourceType.ANY, resourceNameFilter: null, patternTypeFilter: PatternType.ANY, principalFilter: null, hostFilter: null, operation: AclOperation.ANY, permissionType: AclPermission.ANY };
const patterns = (r: DescribeAclsResponse) => r.resources.map((x) => `${x.resourceType}:${x.patternType}:${x.resourceName}`).sort();

beforeAll(async () => {
  pb = await openTwoTenantBroker({ "authorizer.class.name": "bunka", "super.users": "User:root" }, { alice: "acme", carol: "acme", bob: "globex" });
  // The operator lets the tenants' admins manage ACLs and create topics.
  const res = await pb.as("root")(CreateAcls, 3, {
    creations: ["User:alice", "User:bob"].flatMap((p) => [
      allow(ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL, p, AclOperation.ALTER),
      allow(ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL, p, AclOperation.DESCRIBE),
      allow(ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL, p, AclOperation.CREATE),
    ]),
  });
  expect(res.results.every((r) => r.errorCode === 0)).toBe(true);
});

afterAll(async () => {
  await pb.close();
});

test("CreateAcls: client names stored under the prefix; CLUSTER refused to a tenant", async () => {
  const res = await pb.as("alice")(CreateAcls, 3, {
    creations: [
      allow(ResourceType.TOPIC, "orders", PatternType.LITERAL, "User:carol", AclOperation.WRITE),
      allow(ResourceType.TOPIC, "*", PatternType.LITERAL, "User:carol", AclOperation.DESCRIBE),
      allow(ResourceType.GROUP, "app-", PatternType.PREFIXED, "User:carol", AclOperation.READ),
      allow(ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL, "User:carol", AclOperation.ALTER),
    ],
  });
  expect(res.results.map((r) => r.errorCode)).toEqual([0, 0, 0, ErrorCode.INVALID_REQUEST]);
  expect(res.results[3]!.errorMessage).toContain("only name topics, groups and transactional ids");
  const all = await pb.as("root")(DescribeAcls, 3, anyFilter);
  expect(patterns(all).filter((p) => p.includes("__lc-"))).toEqual(["2:3:__lc-1.orders", "2:4:__lc-1.", "3:4:__lc-1.app-"]);
});

test("DescribeAcls: a tenant sees its own bindings with client names, never another tenant's or broker-wide ones", async () => {
  expect(patterns(await pb.as("alice")(DescribeAcls, 3, anyFilter))).toEqual(["2:3:*", "2:3:orders", "3:4:app-"]);
  expect(patterns(await pb.as("bob")(DescribeAcls, 3, anyFilter))).toEqual([]);
  const literal = await pb.as("alice")(DescribeAcls, 3, { ...anyFilter, resourceTypeFilter: ResourceType.TOPIC, resourceNameFilter: "orders", patternTypeFilter: PatternType.LITERAL });
  expect(patterns(literal)).toEqual(["2:3:orders"]);
  const match = await pb.as("alice")(DescribeAcls, 3, { ...anyFilter, resourceTypeFilter: ResourceType.TOPIC, resourceNameFilter: "orders", patternTypeFilter: PatternType.MATCH });
  expect(patterns(match)).toEqual(["2:3:*", "2:3:orders"]);
});

test("the tenant's ACLs are enforced: carol (acme) may write 'orders' but not another topic", async () => {
  await pb.as("alice")(C.CreateTopics, 7, { topics: ["orders", "ledger"].map((name) => ({ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] })), timeoutMs: 5000, validateOnly: false });
  const batch = buildRecordBatch([{ key: null, value: new Uint8Array([1]) }]);
  const write = (topic: string) => pb.as("carol")(C.Produce, 9, { acks: 1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }] });
  expect((await write("orders")).responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
  expect((await write("ledger")).responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  // carol can DESCRIBE every acme topic through the LITERAL * binding, and sees only acme's.
  const md = await pb.as("carol")(C.Metadata, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  expect(md.topics.map((t) => t.name).sort()).toEqual(["ledger", "orders"]);
});

test("DeleteAcls: a broad filter from one tenant deletes only that tenant's bindings", async () => {
  await pb.as("bob")(CreateAcls, 3, { creations: [allow(ResourceType.TOPIC, "orders", PatternType.LITERAL, "User:dave", AclOperation.READ)] });
  const del = await pb.as("bob")(DeleteAcls, 3, { filters: [{ ...anyFilter }] });
  expect(del.filterResults).toHaveLength(1);
  expect(del.filterResults[0]!.matchingAcls.map((m) => `${m.resourceName}:${m.principal}`)).toEqual(["orders:User:dave"]);
  expect(patterns(await pb.as("alice")(DescribeAcls, 3, anyFilter))).toEqual(["2:3:*", "2:3:orders", "3:4:app-"]);
  const wildcard = await pb.as("alice")(DeleteAcls, 3, {
    filters: [
      { ...anyFilter, resourceTypeFilter: ResourceType.TOPIC, resourceNameFilter: "*", patternTypeFilter: PatternType.LITERAL },
      { ...anyFilter, resourceTypeFilter: ResourceType.TOPIC, resourceNameFilter: "nothing-here", patternTypeFilter: PatternType.LITERAL },
    ],
  });
  expect(wildcard.filterResults.map((f) => f.matchingAcls.map((m) => `${m.resourceName}:${m.patternType}`))).toEqual([["*:3"], []]);
  const all = await pb.as("root")(DescribeAcls, 3, anyFilter);
  expect(patterns(all).filter((p) => p.includes("__lc-"))).toEqual(["2:3:__lc-1.orders", "3:4:__lc-1.app-"]);
  expect(patterns(all)).toContain("4:3:kafka-cluster"); // the operator's cluster ACLs untouched
});
