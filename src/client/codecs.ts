/** Ready-made codecs for the wire client (request writer + response reader per API). */
import { codec } from "./wire-client.ts";
import { writeApiVersionsRequest } from "../protocol/generated/api-versions-request.ts";
import { readApiVersionsResponse } from "../protocol/generated/api-versions-response.ts";
import { writeMetadataRequest } from "../protocol/generated/metadata-request.ts";
import { readMetadataResponse } from "../protocol/generated/metadata-response.ts";
import { type ProduceRequest, writeProduceRequest } from "../protocol/generated/produce-request.ts";
import { ZERO_COPY_THRESHOLD } from "../protocol/writer.ts";
import { readProduceResponse } from "../protocol/generated/produce-response.ts";
import { writeFetchRequest } from "../protocol/generated/fetch-request.ts";
import { readFetchResponse } from "../protocol/generated/fetch-response.ts";
import { writeCreateTopicsRequest } from "../protocol/generated/create-topics-request.ts";
import { readCreateTopicsResponse } from "../protocol/generated/create-topics-response.ts";
import { writeListOffsetsRequest } from "../protocol/generated/list-offsets-request.ts";
import { readListOffsetsResponse } from "../protocol/generated/list-offsets-response.ts";
import { writeInitProducerIdRequest } from "../protocol/generated/init-producer-id-request.ts";
import { readInitProducerIdResponse } from "../protocol/generated/init-producer-id-response.ts";
import { writeDescribeConfigsRequest } from "../protocol/generated/describe-configs-request.ts";
import { readDescribeConfigsResponse } from "../protocol/generated/describe-configs-response.ts";
import { writeDeleteRecordsRequest } from "../protocol/generated/delete-records-request.ts";
import { readDeleteRecordsResponse } from "../protocol/generated/delete-records-response.ts";

export const ApiVersions = codec(18, writeApiVersionsRequest, readApiVersionsResponse);
export const Metadata = codec(3, writeMetadataRequest, readMetadataResponse);
export const Produce = codec(0, writeProduceRequest, readProduceResponse, produceRequestSizeHint);
export const Fetch = codec(1, writeFetchRequest, readFetchResponse);
export const CreateTopics = codec(19, writeCreateTopicsRequest, readCreateTopicsResponse);
export const ListOffsets = codec(2, writeListOffsetsRequest, readListOffsetsResponse);
export const InitProducerId = codec(22, writeInitProducerIdRequest, readInitProducerIdResponse);
export const DescribeConfigs = codec(32, writeDescribeConfigsRequest, readDescribeConfigsResponse);
export const DeleteRecords = codec(21, writeDeleteRecordsRequest, readDeleteRecordsResponse);

/**
 * A Produce request body's size, generously: names at 3 bytes a character, ~16 bytes of fields
 * per partition, and the records the writer copies (sets of ZERO_COPY_THRESHOLD bytes and more
 * become chunks of their own and need no room in the buffer).
 */
export function produceRequestSizeHint(req: ProduceRequest): number {
  let n = 32 + (req.transactionalId?.length ?? 0) * 3;
  for (const t of req.topicData) {
    n += 16 + t.name.length * 3;
    for (const p of t.partitionData) {
      const len = p.records?.length ?? 0;
      n += 16 + (len < ZERO_COPY_THRESHOLD ? len : 0);
    }
  }
  return n;
}
