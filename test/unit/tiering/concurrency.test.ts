import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { PartitionLog } from "../../../src/log/partition-log.ts";
import { FsObjectStore } from "../../../src/tiering/fs-object-store.ts";
import { readLocalManifest } from "../../../src/tiering/manifest.ts";
import { runBounded, TierManager } from "../../../src/tiering/tier-manager.ts";
import { FlakyStore, LOG_CONFIG, appendBatches, tempRoot, tierConfigFor, tieredSettings } from "./helpers.ts";

/** Counts the partitions with a put in flight at the same moment; puts take `delayMs`. */
class SlowStore extends FlakyStore {
  private readonly inFlight = new Map<string, number>();
  maxPartitions = 0;
  constructor(inner: FsObjectStore, private readonly delayMs: number) {
    super(inner);
  }
  override async putFile(key: string, path: string): Promise<void> {
    const partition = key.split("/").slice(0, 3).join("/");
    this.inFlight.set(partition, (this.inFlight.get(partition) ?? 0) + 1);
    this.maxPartitions = Math.max(this.maxPartitions, this.inFlight.size);
    try {
      await Bun.sleep(this.delayMs);
      await super.putFile(key, path);
    } finally {
      const n = (this.inFlight.get(partition) ?? 1) - 1;
      if (n === 0) this.inFlight.delete(partition);
      else this.inFlight.set(partition, n);
    }
  }
}

async function tierPartitions(concurrency: number, partitions: number): Promise<{ maxPartitions: number; ms: number; manifests: number[] }> {
  const root = tempRoot();
  const tc = tierConfigFor(root, { uploadConcurrency: concurrency });
  const fs = new FsObjectStore(tc.fsDir);
  await fs.init();
  const store = new SlowStore(fs, 30);
  const tier = new TierManager(tc, store, "cluster", () => {});
  const logs: PartitionLog[] = [];
  for (let p = 0; p < partitions; p++) {
    const log = await PartitionLog.open(join(root, `t-${p}`), "t", p, LOG_CONFIG);
    await appendBatches(log, 14); // a few sealed segments each
    tier.attach(log, "TOPICID", () => tieredSettings());
    logs.push(log);
  }
  const start = performance.now();
  for (let i = 0; i < 100 && ((await tier.runOnce()) || tier.lag().segments > 0); i++);
  const ms = performance.now() - start;
  const manifests = logs.map((l) => readLocalManifest(l.dir)?.segments.length ?? 0);
  for (const l of logs) await l.close();
  return { maxPartitions: store.maxPartitions, ms, manifests };
}

describe("tiering several partitions at once", () => {
  test("at most bunka.tier.upload.concurrency partitions upload at the same time, and all get tiered", async () => {
    const four = await tierPartitions(4, 6);
    expect(four.maxPartitions).toBe(4);
    expect(four.manifests.every((n) => n >= 2)).toBe(true);
    const one = await tierPartitions(1, 6);
    expect(one.maxPartitions).toBe(1);
    expect(one.manifests).toEqual(four.manifests);
    // Six partitions' 30 ms puts overlap instead of running back to back.
    expect(four.ms).toBeLessThan(one.ms);
  });

  test("runBounded: never more than the limit, no new item after a failure, the failure is thrown", async () => {
    let running = 0;
    let max = 0;
    const started: number[] = [];
    const work = async (i: number) => {
      started.push(i);
      running++;
      max = Math.max(max, running);
      await Bun.sleep(5);
      running--;
      if (i === 3) throw new Error("item 3 failed");
    };
    await expect(runBounded([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 3, work)).rejects.toThrow("item 3 failed");
    expect(max).toBe(3);
    expect(started.length).toBeLessThan(10);
    started.length = 0;
    await runBounded([1, 2, 4], 8, async (i) => void started.push(i));
    expect(started.sort()).toEqual([1, 2, 4]);
    await runBounded([], 2, async () => {
      throw new Error("never called");
    });
  });
});
