/**
 * OffsetDelete (key 47), v0. GROUP_ID_NOT_FOUND for unknown groups, NON_EMPTY_GROUP for a
 * non-consumer group with members, GROUP_SUBSCRIBED_TO_TOPIC per partition of a topic a member of
 * a consumer group subscribes to; the rest get tombstones in the group log.
 */
import { readOffsetDeleteRequest } from "../protocol/generated/offset-delete-request.ts";
import { writeOffsetDeleteResponse, type OffsetDeleteResponse } from "../protocol/generated/offset-delete-response.ts";
import { defineHandler } from "./handler.ts";

export const offsetDeleteHandler = defineHandler({
  apiKey: 47,
  name: "OffsetDelete",
  minVersion: 0,
  maxVersion: 0,
  readRequest: readOffsetDeleteRequest,
  writeResponse: writeOffsetDeleteResponse,
  async handle({ broker }, req): Promise<OffsetDeleteResponse> {
    const partitions = req.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex })));
    const r = await broker.groups.deleteOffsets(req.groupId, partitions);
    if (r.errorCode !== 0) return { errorCode: r.errorCode, throttleTimeMs: 0, topics: [] };
    let i = 0;
    return {
      errorCode: 0,
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: r.codes[i++]! })) })),
    };
  },
});
