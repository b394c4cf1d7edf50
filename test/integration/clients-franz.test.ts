// franz-go (Go) against the broker, with the library's defaults: idempotent
// producer, snappy batches, sticky/murmur2 partitioning; direct partition
// consumption from the start (no group). The program (test/clients/franz) checks
// every record itself and prints a JSON summary.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestBroker, type BrokerHandle } from "../support/broker.ts";
import { franz } from "../support/tools.ts";

let broker: BrokerHandle;

beforeAll(async () => {
  broker = await startTestBroker();
}, 120_000);

afterAll(async () => {
  await broker?.stop();
}, 60_000);

describe("franz-go", () => {
  test("50,000 records on 4 partitions with library defaults (snappy)", async () => {
    const { summary, lines } = await franz(broker.bootstrap, [
      "--topic",
      `franz-default-${Date.now()}`,
      "--records",
      "50000",
      "--partitions",
      "4",
    ]);
    expect(summary.produced).toBe(50_000);
    expect(summary.consumed).toBe(50_000);
    const produced = lines.find((l) => l.event === "produced");
    for (const n of produced!.perPartition as number[]) expect(n).toBeGreaterThan(0);
  }, 120_000);

  for (const codec of ["none", "gzip", "lz4", "zstd"]) {
    test(`10,000 records, compression ${codec}`, async () => {
      const { summary } = await franz(broker.bootstrap, [
        "--topic",
        `franz-${codec}-${Date.now()}`,
        "--records",
        "10000",
        "--partitions",
        "3",
        "--compression",
        codec,
      ]);
      expect(summary.consumed).toBe(10_000);
    }, 60_000);
  }
});
