import { expect, test } from "bun:test";
import { boundedAll } from "../../../src/util/bounded-all.ts";

test("results come back in item order, with at most `limit` calls pending", async () => {
  let pending = 0;
  let most = 0;
  const items = Array.from({ length: 40 }, (_, i) => i);
  const out = await boundedAll(items, 5, async (n) => {
    pending++;
    most = Math.max(most, pending);
    await Bun.sleep((n * 7) % 5); // finish out of order
    pending--;
    return n * n;
  });
  expect(out).toEqual(items.map((n) => n * n));
  expect(most).toBe(5);
});

test("the first failure rejects and no new call starts after it", async () => {
  const started: number[] = [];
  const run = boundedAll([0, 1, 2, 3, 4, 5, 6, 7], 2, async (n) => {
    started.push(n);
    await Bun.sleep(1);
    if (n === 2) throw new Error("boom 2");
    return n;
  });
  await expect(run).rejects.toThrow("boom 2");
  await Bun.sleep(20);
  expect(started.length).toBeLessThanOrEqual(4); // 2 failed while 3 ran; nothing after
});

test("no items: no calls", async () => {
  expect(await boundedAll([], 4, async () => 1)).toEqual([]);
});
