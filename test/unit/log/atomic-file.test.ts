import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic, writeFileAtomicSync } from "../../../src/log/atomic-file.ts";
import { readPartitionMeta, writePartitionMeta } from "../../../src/log/partition-meta.ts";
import { tempDir } from "./helpers.ts";

describe("writeFileAtomic", () => {
  test("replaces content and leaves no temp file", async () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    const path = join(dir, "meta");
    await writeFileAtomic(path, new TextEncoder().encode("one"));
    await writeFileAtomic(path, new TextEncoder().encode("two"));
    expect(readFileSync(path, "utf8")).toBe("two");
    writeFileAtomicSync(path, new TextEncoder().encode("three"));
    expect(readFileSync(path, "utf8")).toBe("three");
    expect(readdirSync(dir)).toEqual(["meta"]);
  });

  test("partition meta round trip; absent file reads as null", async () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    expect(readPartitionMeta(dir)).toBeNull();
    await writePartitionMeta(dir, { logStartOffset: 12345 });
    expect(readPartitionMeta(dir)).toEqual({ logStartOffset: 12345 });
    expect(existsSync(join(dir, "partition.meta"))).toBe(true);
  });
});
