import { describe, expect, test } from "bun:test";
import { LogChangeJournal } from "../../../src/broker/log-change-journal.ts";
import type { PartitionLog } from "../../../src/log/partition-log.ts";

// stand-ins: the journal only holds and hands back references
const log = (name: string) => ({ name }) as unknown as PartitionLog;
const names = (j: LogChangeJournal, from: number) => {
  const seen: string[] = [];
  const ok = j.since(from, (l) => seen.push((l as unknown as { name: string }).name));
  return ok ? seen : null;
};

describe("LogChangeJournal", () => {
  test("hands back the changes since a position, in order, repeats included", () => {
    const j = new LogChangeJournal(8);
    const [a, b] = [log("a"), log("b")];
    const [ia, ib] = [j.register(a), j.register(b)];
    expect(ia).not.toBe(ib);
    expect(j.register(a)).toBe(ia); // registering again keeps the id
    expect(j.position).toBe(0);
    j.record(ia);
    const mark = j.position;
    j.record(ib);
    j.record(ia);
    expect(names(j, 0)).toEqual(["a", "b", "a"]);
    expect(names(j, mark)).toEqual(["b", "a"]);
    expect(names(j, j.position)).toEqual([]);
  });

  test("a reader further behind than the ring holds is told so, not handed a partial list", () => {
    const j = new LogChangeJournal(4);
    const logs = ["a", "b", "c", "d", "e"].map(log);
    for (const l of logs) j.record(j.register(l));
    expect(names(j, 0)).toBeNull(); // "a" was overwritten
    expect(names(j, 1)).toEqual(["b", "c", "d", "e"]);
    expect(names(j, -1)).toBeNull(); // never read
    expect(names(j, 99)).toBeNull(); // a position from elsewhere
  });

  test("a deleted log is left out, and its id goes to the next log registered", () => {
    const j = new LogChangeJournal(8);
    const [a, b] = [log("a"), log("b")];
    const ia = j.register(a);
    j.record(ia);
    j.record(j.register(b));
    j.unregister(a);
    expect(names(j, 0)).toEqual(["b"]);
    j.unregister(a); // twice: nothing happens
    const c = log("c");
    expect(j.register(c)).toBe(ia);
    // the old change under the reused id names the new log: one look more than needed, never one less
    expect(names(j, 0)).toEqual(["c", "b"]);
  });
});
