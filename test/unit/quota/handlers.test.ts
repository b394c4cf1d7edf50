import { expect, test } from "bun:test";
import { codec } from "../../../src/client/wire-client.ts";
import { writeAlterClientQuotasRequest } from "../../../src/protocol/generated/alter-client-quotas-request.ts";
import { readAlterClientQuotasResponse } from "../../../src/protocol/generated/alter-client-quotas-response.ts";
import { writeDescribeClientQuotasRequest } from "../../../src/protocol/generated/describe-client-quotas-request.ts";
import { readDescribeClientQuotasResponse } from "../../../src/protocol/generated/describe-client-quotas-response.ts";
import { openInProcessBroker } from "../../support/in-process.ts";

const Alter = codec(49, writeAlterClientQuotasRequest, readAlterClientQuotasResponse);
const Describe = codec(48, writeDescribeClientQuotasRequest, readDescribeClientQuotasResponse);

test("AlterClientQuotas persists, DescribeClientQuotas filters, both versions", async () => {
  let b = await openInProcessBroker();
  const alter = await b.call(Alter, 1, {
    validateOnly: false,
    entries: [
      { entity: [{ entityType: "user", entityName: "alice" }], ops: [{ key: "producer_byte_rate", value: 1000, remove: false }] },
      { entity: [{ entityType: "client-id", entityName: null }], ops: [{ key: "consumer_byte_rate", value: 2000, remove: false }] },
      { entity: [{ entityType: "user", entityName: "bob" }], ops: [{ key: "nope", value: 1, remove: false }] },
    ],
  });
  expect(alter.entries.map((e) => e.errorCode)).toEqual([0, 0, 42]);
  const dry = await b.call(Alter, 0, { validateOnly: true, entries: [{ entity: [{ entityType: "user", entityName: "carol" }], ops: [{ key: "request_percentage", value: 5, remove: false }] }] });
  expect(dry.entries[0]!.errorCode).toBe(0);
  b = await b.reopen();
  const all = await b.call(Describe, 0, { components: [], strict: false });
  expect(all.errorCode).toBe(0);
  expect(all.entries!.length).toBe(2);
  const users = await b.call(Describe, 1, { components: [{ entityType: "user", matchType: 2, match: null }], strict: true });
  expect(users.entries).toEqual([{ entity: [{ entityType: "user", entityName: "alice" }], values: [{ key: "producer_byte_rate", value: 1000 }] }]);
  const bad = await b.call(Describe, 1, { components: [{ entityType: "user", matchType: 0, match: null }], strict: false });
  expect(bad.errorCode).toBe(42);
  expect(bad.entries).toBeNull();
  await b.close();
});
