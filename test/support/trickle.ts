/**
 * A background producer for group tests: every `intervalMs` it appends `perPartition` records to
 * each partition (acks=all, over the in-repo wire client), so members that get partitions late
 * still find new records there, however fast the others drained the initial data.
 */
import { WireClient } from "../../src/client/wire-client.ts";
import { produceRecords } from "./load.ts";

export interface Trickle {
  /** Stops producing; resolves with the number of records appended. */
  stop(): Promise<number>;
}

export async function startTrickle(host: string, port: number, topic: string, partitions: number, perPartition = 10, intervalMs = 100): Promise<Trickle> {
  const client = await WireClient.connect(host, port, "trickle");
  const encoder = new TextEncoder();
  let produced = 0;
  let stopped = false;
  let tick = 0;
  const loop = (async () => {
    while (!stopped) {
      const sends = [];
      for (let p = 0; p < partitions; p++) {
        const records = Array.from({ length: perPartition }, (_, i) => ({ key: encoder.encode(`t${tick}-${p}-${i}`), value: encoder.encode(`trickle ${tick} ${i}`) }));
        sends.push(
          produceRecords(client, topic, p, records).then((r) => {
            if (r.errorCode !== 0) throw new Error(`trickle produce to ${topic}-${p} failed with error ${r.errorCode}`);
            produced += perPartition;
          }),
        );
      }
      await Promise.all(sends);
      tick++;
      await Bun.sleep(intervalMs);
    }
  })();
  return {
    async stop() {
      stopped = true;
      try {
        await loop;
      } finally {
        client.close();
      }
      return produced;
    },
  };
}
