import { describe, expect, test } from "bun:test";
import { OpColumns } from "../../../src/log/op-columns.ts";

describe("OpColumns", () => {
  test("views hold what was pushed, in order, across growth", () => {
    const c = new OpColumns();
    const n = 1000; // several doublings past the initial 256
    for (let i = 0; i < n; i++) c.push(i % 4, i * 4096 + 0.0, 0x7fffffff - i);
    const { kinds, positions, tokens } = c.views();
    expect([kinds.length, positions.length, tokens.length]).toEqual([n, n, n]);
    for (const i of [0, 255, 256, 511, 512, 999]) {
      expect(kinds[i]).toBe(i % 4);
      expect(positions[i]).toBe(i * 4096);
      expect(tokens[i]).toBe(0x7fffffff - i);
    }
  });

  test("positions above 2^32 and tokens up to 2^31-1 survive the typed columns", () => {
    const c = new OpColumns();
    c.push(0, 2 ** 40 + 7, 2 ** 31 - 1);
    const { positions, tokens } = c.views();
    expect(positions[0]).toBe(2 ** 40 + 7);
    expect(tokens[0]).toBe(2 ** 31 - 1);
  });

  test("clear starts over and reuses the same memory (no new arrays per submit)", () => {
    const c = new OpColumns();
    c.push(1, 10, 11);
    c.push(2, 20, 21);
    const first = c.views();
    c.clear();
    expect(c.length).toBe(0);
    expect(c.views().kinds.length).toBe(0);
    c.push(3, 30, 31);
    const second = c.views();
    expect([second.kinds[0], second.positions[0], second.tokens[0]]).toEqual([3, 30, 31]);
    expect(second.kinds.buffer).toBe(first.kinds.buffer);
    expect(second.tokens.buffer).toBe(first.tokens.buffer);
  });
});
