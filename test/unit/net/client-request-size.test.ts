// The wire client sizes a Produce frame from its records (src/client/codecs.ts): the hint must cover
// what the writer copies, so the frame is built in one buffer and sent without a concatenating copy.
import { expect, test } from "bun:test";
import { Produce, produceRequestSizeHint } from "../../../src/client/codecs.ts";
import { WireClient, encodeRequest } from "../../../src/client/wire-client.ts";
import { buildRecordBatch } from "../../../src/client/record-batch-builder.ts";
import { Writer, ZERO_COPY_THRESHOLD } from "../../../src/protocol/writer.ts";
import { type ProduceRequest, writeProduceRequest } from "../../../src/protocol/generated/produce-request.ts";

function request(partitions: number, valueBytes: number): ProduceRequest {
  const batch = buildRecordBatch([{ value: new Uint8Array(valueBytes).fill(1) }]);
  return {
    transactionalId: null,
    acks: -1,
    timeoutMs: 30_000,
    topicData: [
      { name: "orders", partitionData: Array.from({ length: partitions }, (_, index) => ({ index, records: batch })) },
      { name: "注文", partitionData: [{ index: 0, records: batch }] },
    ],
  };
}

test("the Produce request size hint covers the bytes the writer copies, at every version", () => {
  expect(Produce.requestSizeHint).toBe(produceRequestSizeHint);
  for (let version = 3; version <= 11; version++) {
    for (const partitions of [1, 13, 500]) {
      for (const valueBytes of [10, 1000, 2 * ZERO_COPY_THRESHOLD]) {
        const req = request(partitions, valueBytes);
        const w = new Writer(16);
        writeProduceRequest(w, version, req);
        // bytes inside the writer's own buffers: the total less the records left as chunks of their own
        const bigRecords = valueBytes >= ZERO_COPY_THRESHOLD ? req.topicData.reduce((n, t) => n + t.partitionData.reduce((m, p) => m + (p.records?.length ?? 0), 0), 0) : 0;
        expect(w.byteLength - bigRecords).toBeLessThanOrEqual(produceRequestSizeHint(req));
      }
    }
  }
});

test("a Produce frame of small batches comes out of its first buffer, in one chunk", () => {
  const req = request(13, 1000);
  const w = encodeRequest(Produce, 9, 7, "client", req);
  const chunks = w.toChunks();
  expect(chunks.length).toBe(1);
  // never grown: the chunk is a view of the buffer the writer started with (header allowance + hint)
  expect(chunks[0]!.buffer.byteLength).toBe(16 + "client".length * 3 + produceRequestSizeHint(req));
  expect(chunks[0]!.length).toBe(w.byteLength);
});

test("the records of a sent request may be overwritten once send() returned: the frame was copied", async () => {
  let received = new Uint8Array(0);
  const server = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(_s, data) {
        const all = new Uint8Array(received.length + data.length);
        all.set(received);
        all.set(data, received.length);
        received = all;
      },
    },
  });
  const client = await WireClient.connect("127.0.0.1", server.port, "c");
  try {
    // one small batch (copied into the frame's buffer) and one above the zero-copy threshold (left
    // as a chunk of its own by the writer)
    const small = buildRecordBatch([{ value: new Uint8Array(100).fill(2) }]);
    // 16 MiB: more than loopback socket buffers take at once, so part of the frame waits in the client
    const big = buildRecordBatch([{ value: new Uint8Array(16 * 1024 * 1024).fill(3) }]);
    const req: ProduceRequest = {
      transactionalId: null,
      acks: -1,
      timeoutMs: 1000,
      topicData: [{ name: "t", partitionData: [{ index: 0, records: small }, { index: 1, records: big }] }],
    };
    // the frame as it must arrive (correlation id 1: the client's first request)
    const expected = encodeRequest(Produce, 9, 1, "c", req).toBytes();
    void client.send(Produce, 9, req).catch(() => {});
    small.fill(0xff);
    big.fill(0xff);
    const deadline = Date.now() + 5000;
    while (received.length < expected.length && Date.now() < deadline) await Bun.sleep(5);
    expect(received.length).toBe(expected.length);
    expect(Buffer.from(received).equals(Buffer.from(expected))).toBe(true);
  } finally {
    client.close();
    server.stop(true);
  }
});
