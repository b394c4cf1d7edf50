/**
 * For the in-process benches (no sockets): a broker driven through dispatch (test/support/in-process.ts)
 * with one topic created, its data under .cache/<name>-XXXX (the repo's filesystem, as the server's).
 */
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import * as C from "../../src/client/codecs.ts";
import { openInProcessBroker, type InProcessBroker } from "../../test/support/in-process.ts";

export async function brokerWithTopic(name: string, topic: string, partitions: number, overrides: Record<string, string>): Promise<InProcessBroker> {
  const dir = mkdtempSync(join(import.meta.dir, "..", "..", ".cache", `${name}-`));
  const b = await openInProcessBroker(overrides, dir);
  const created = await b.call(C.CreateTopics, 7, {
    topics: [{ name: topic, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 30_000,
    validateOnly: false,
  });
  if (created.topics[0]?.errorCode !== 0) throw new Error(`creating ${topic} failed: error ${created.topics[0]?.errorCode}`);
  return b;
}
