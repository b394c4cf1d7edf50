// remote.storage.enable cannot be turned off once on (Kafka answers INVALID_CONFIG), through both
// AlterConfigs and IncrementalAlterConfigs, validate_only or not; turning it on stays allowed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { codec } from "../../../src/client/wire-client.ts";
import * as C from "../../../src/client/codecs.ts";
import { writeAlterConfigsRequest } from "../../../src/protocol/generated/alter-configs-request.ts";
import { readAlterConfigsResponse } from "../../../src/protocol/generated/alter-configs-response.ts";
import { writeIncrementalAlterConfigsRequest } from "../../../src/protocol/generated/incremental-alter-configs-request.ts";
import { readIncrementalAlterConfigsResponse } from "../../../src/protocol/generated/incremental-alter-configs-response.ts";
import { ErrorCode } from "../../../src/protocol/error-codes.ts";
import { validateRemoteStorageChange } from "../../../src/tiering/topic-settings.ts";
import { openInProcessBroker, type InProcessBroker } from "../../support/in-process.ts";

const AlterConfigs = codec(33, writeAlterConfigsRequest, readAlterConfigsResponse);
const IncrementalAlterConfigs = codec(44, writeIncrementalAlterConfigsRequest, readIncrementalAlterConfigsResponse);
const SET = 0;
const DELETE = 1;

let b: InProcessBroker;

beforeAll(async () => {
  b = await openInProcessBroker({ "bunka.hot.cache.bytes": "0" });
  for (const [name, remote] of [["on", "true"], ["off", "false"]] as const) {
    const res = await b.call(C.CreateTopics, 7, {
      topics: [{ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [{ name: "remote.storage.enable", value: remote }] }],
      timeoutMs: 1000,
      validateOnly: false,
    });
    expect(res.topics[0]?.errorCode).toBe(0);
  }
});

afterAll(async () => {
  await b.close();
});

const overrides = (topic: string) => b.broker.topics.get(topic)!.record.configs;

async function incremental(topic: string, configs: { name: string; configOperation: number; value: string | null }[], validateOnly = false) {
  const r = await b.call(IncrementalAlterConfigs, 1, { resources: [{ resourceType: 2, resourceName: topic, configs }], validateOnly });
  return r.responses[0]!;
}

describe("remote.storage.enable cannot be turned off", () => {
  test("the rule on its own", () => {
    expect(validateRemoteStorageChange({ "remote.storage.enable": "true" }, { "remote.storage.enable": "false" })).toContain(
      "It is invalid to disable remote storage without deleting remote data.",
    );
    expect(validateRemoteStorageChange({ "remote.storage.enable": " TRUE " }, {})).not.toBeNull();
    expect(validateRemoteStorageChange({ "remote.storage.enable": "true" }, { "remote.storage.enable": "True" })).toBeNull();
    expect(validateRemoteStorageChange({}, { "remote.storage.enable": "false" })).toBeNull();
    expect(validateRemoteStorageChange({ "remote.storage.enable": "false" }, { "remote.storage.enable": "true" })).toBeNull();
  });

  test("IncrementalAlterConfigs: SET false or DELETE is INVALID_CONFIG and changes nothing; other changes still pass", async () => {
    for (const validateOnly of [true, false]) {
      const set = await incremental("on", [{ name: "remote.storage.enable", configOperation: SET, value: "false" }], validateOnly);
      expect(set.errorCode).toBe(ErrorCode.INVALID_CONFIG);
      expect(set.errorMessage).toContain("disable remote storage");
      const del = await incremental("on", [{ name: "remote.storage.enable", configOperation: DELETE, value: null }], validateOnly);
      expect(del.errorCode).toBe(ErrorCode.INVALID_CONFIG);
    }
    expect(overrides("on")).toEqual({ "remote.storage.enable": "true" });
    const other = await incremental("on", [{ name: "retention.ms", configOperation: SET, value: "60000" }]);
    expect(other.errorCode).toBe(ErrorCode.NONE);
    expect(overrides("on")).toEqual({ "remote.storage.enable": "true", "retention.ms": "60000" });
  });

  test("AlterConfigs replacing the overrides without remote.storage.enable=true is refused", async () => {
    const r = await b.call(AlterConfigs, 2, { resources: [{ resourceType: 2, resourceName: "on", configs: [{ name: "retention.ms", value: "1000" }] }], validateOnly: false });
    expect(r.responses[0]!.errorCode).toBe(ErrorCode.INVALID_CONFIG);
    expect(overrides("on")["remote.storage.enable"]).toBe("true");
    const keep = await b.call(AlterConfigs, 2, {
      resources: [{ resourceType: 2, resourceName: "on", configs: [{ name: "remote.storage.enable", value: "true" }, { name: "retention.ms", value: "1000" }] }],
      validateOnly: false,
    });
    expect(keep.responses[0]!.errorCode).toBe(ErrorCode.NONE);
  });

  test("turning it on (and a topic that never had it) is allowed, and the partition's tier sees it at once", async () => {
    const tier = b.broker.tier!.tierOf(b.broker.topics.get("off")!.logs[0]!)!;
    expect(tier.active).toBe(false); // asked once already: the settings are cached until the overrides change
    expect((await incremental("off", [{ name: "retention.ms", configOperation: SET, value: "5000" }])).errorCode).toBe(ErrorCode.NONE);
    expect(tier.active).toBe(false);
    expect((await incremental("off", [{ name: "remote.storage.enable", configOperation: SET, value: "true" }])).errorCode).toBe(ErrorCode.NONE);
    expect(overrides("off")["remote.storage.enable"]).toBe("true");
    expect(tier.active).toBe(true);
  });
});
