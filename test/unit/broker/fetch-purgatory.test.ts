import { describe, expect, test } from "bun:test";
import { FetchPurgatory, INDEXED_MAX_LOGS } from "../../../src/broker/fetch-purgatory.ts";
import type { PartitionLog } from "../../../src/log/partition-log.ts";

// The purgatory only uses logs as identities: plain objects stand in for them.
const logs = (n: number) => Array.from({ length: n }, (_, i) => ({ id: i }) as unknown as PartitionLog);

function watch(p: FetchPurgatory, watched: readonly PartitionLog[] | ReadonlySet<PartitionLog>, ready: () => boolean = () => true, deadline = Date.now() + 60_000) {
  let woken = false;
  const done = p.wait(watched, deadline, ready).then(() => (woken = true));
  return { done, woken: () => woken };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe("FetchPurgatory", () => {
  for (const [name, width] of [
    ["narrow (indexed per log)", 3],
    ["wide (checked against every advance)", INDEXED_MAX_LOGS + 8],
  ] as const) {
    test(`${name}: woken only by an advance of a watched log, and only once ready`, async () => {
      const p = new FetchPurgatory();
      const mine = logs(width);
      const other = logs(1)[0]!;
      let readyNow = false;
      const asSet = width > INDEXED_MAX_LOGS ? new Set(mine) : mine;
      const w = watch(p, asSet, () => readyNow);
      p.notify(other);
      await settle();
      expect(w.woken()).toBe(false);
      p.notify(mine[width - 1]!); // watched, but not ready yet
      await settle();
      expect(w.woken()).toBe(false);
      expect(p.size).toBe(1);
      readyNow = true;
      p.notify(mine[width - 1]!);
      await w.done;
      expect(p.size).toBe(0);
      // gone from every index: a later advance of its logs finds nobody (and nothing throws)
      p.notify(mine[0]!);
    });
  }

  test("a wide array is watched as a set; narrow and wide waiters on the same log are both woken", async () => {
    const p = new FetchPurgatory();
    const all = logs(INDEXED_MAX_LOGS + 1);
    const wide = watch(p, all);
    const narrow = watch(p, [all[5]!]);
    const bystander = watch(p, [all[6]!]);
    p.notify(all[5]!);
    await Promise.all([wide.done, narrow.done]);
    await settle();
    expect(bystander.woken()).toBe(false);
    expect(p.size).toBe(1);
    p.completeAll();
    await bystander.done;
    expect(p.size).toBe(0);
  });

  test("deadlines expire waiters without an advance, earliest first", async () => {
    const p = new FetchPurgatory();
    const soon = watch(p, new Set(logs(INDEXED_MAX_LOGS + 1)), () => false, Date.now() + 20);
    const later = watch(p, logs(2), () => false, Date.now() + 200);
    await soon.done;
    expect(later.woken()).toBe(false);
    await later.done;
    expect(p.size).toBe(0);
  });
});
