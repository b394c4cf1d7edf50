/**
 * Request builders for the latency benchmarks, on top of the wire client: create a topic, build a
 * one-record acks=all Produce (v9), a long-poll Fetch (v12, by topic name).
 */
import { CreateTopics, Metadata } from "../../src/client/codecs.ts";
import type { WireClient } from "../../src/client/wire-client.ts";
import type { ProduceRequest } from "../../src/protocol/generated/produce-request.ts";
import type { FetchRequest } from "../../src/protocol/generated/fetch-request.ts";

export const PRODUCE_VERSION = 9;
export const FETCH_VERSION = 12;

export async function createTopic(client: WireClient, name: string, partitions = 1): Promise<void> {
  const res = await client.send(CreateTopics, 7, {
    topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 30_000,
    validateOnly: false,
  });
  const t = res.topics[0];
  if (!t || (t.errorCode !== 0 && t.errorCode !== 36 /* TOPIC_ALREADY_EXISTS */)) {
    throw new Error(`CreateTopics ${name}: error ${t?.errorCode} ${t?.errorMessage ?? ""}`);
  }
  // Wait until the partition has a leader in metadata.
  for (let i = 0; i < 100; i++) {
    const md = await client.send(Metadata, 12, { topics: [{ name, topicId: "0".repeat(32) }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    const mt = md.topics.find((x) => x.name === name);
    if (mt && mt.errorCode === 0 && mt.partitions.length === partitions && mt.partitions.every((p) => p.leaderId >= 0)) return;
    await Bun.sleep(20);
  }
  throw new Error(`topic ${name} has no leader after 2 s`);
}

export function produceRequest(topic: string, partition: number, records: Uint8Array): ProduceRequest {
  return {
    transactionalId: null,
    acks: -1,
    timeoutMs: 30_000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
  };
}

export function fetchRequest(topic: string, partition: number, fetchOffset: number, maxWaitMs: number): FetchRequest {
  return {
    replicaId: -1,
    maxWaitMs,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic,
        partitions: [
          { partition, currentLeaderEpoch: -1, fetchOffset, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1 << 20 },
        ],
      },
    ],
    forgottenTopicsData: [],
    rackId: "",
  };
}

/** Throws unless every partition in a Produce response succeeded; returns the first base offset. */
export function checkProduce(res: { responses: { name: string; partitionResponses: { errorCode: number; baseOffset: number; errorMessage?: string | null }[] }[] }): number {
  const pr = res.responses[0]?.partitionResponses[0];
  if (!pr) throw new Error("empty Produce response");
  if (pr.errorCode !== 0) throw new Error(`Produce error ${pr.errorCode} ${pr.errorMessage ?? ""}`);
  return pr.baseOffset;
}
