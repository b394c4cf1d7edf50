// Client-id produce quota over TCP: a flooder at 10 × its producer_byte_rate is held within 10 % of
// the quota (acknowledged bytes over 10 s), and another client-id's p99 produce latency during the
// flood stays within 2 × its solo p99 from the same run. Scenario: bench/quota.bench.ts.
import { expect, test } from "bun:test";
import { DEFAULT_SCENARIO, runQuotaScenario } from "../../bench/quota.bench.ts";

test("producer_byte_rate throttles a flooder to its quota and isolates another client", async () => {
  const r = await runQuotaScenario(DEFAULT_SCENARIO);
  console.log(
    `accuracy ${r.accuracy.toFixed(3)} (achieved ${(r.achievedBytesPerSec / 1048576).toFixed(3)} MiB/s of 1 MiB/s); ` +
      `victim p99 solo ${r.solo.p99.toFixed(2)} ms, flooded ${r.flooded.p99.toFixed(2)} ms -> ${r.isolation.toFixed(2)}`,
  );
  expect(r.maxThrottleTimeMs).toBeGreaterThan(0);
  expect(r.accuracy).toBeGreaterThan(0.9);
  expect(r.accuracy).toBeLessThan(1.1);
  expect(r.isolation).toBeLessThan(2);
}, 60_000);
