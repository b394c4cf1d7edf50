// The Produce handler's response size hint must never be below the encoded size: the response is
// framed into a buffer of that size, and an underestimate silently costs a copy-on-grow per request.
import { expect, test } from "bun:test";
import { Writer } from "../../../src/protocol/writer.ts";
import { type ProduceResponse, writeProduceResponse } from "../../../src/protocol/generated/produce-response.ts";
import { produceHandler, produceResponseSizeHint } from "../../../src/handlers/00-produce.ts";

function response(partitions: number, withErrors: boolean): ProduceResponse {
  const partition = (index: number) => ({
    index,
    errorCode: withErrors && index % 3 === 0 ? 10 : 0,
    baseOffset: 2 ** 40 + index,
    logAppendTimeMs: -1,
    logStartOffset: 2 ** 35,
    recordErrors: withErrors && index % 3 === 0 ? [{ batchIndex: 0, batchIndexErrorMessage: "größer als erlaubt — 🚫" }] : [],
    errorMessage: withErrors && index % 3 === 0 ? "Nachricht zu groß: 😬 ".repeat(4) : null,
  });
  return {
    responses: [
      { name: "orders", partitionResponses: Array.from({ length: partitions }, (_, i) => partition(i)) },
      { name: "注文-topic-名前", partitionResponses: Array.from({ length: Math.ceil(partitions / 2) }, (_, i) => partition(i)) },
    ],
    throttleTimeMs: 0,
  };
}

test("the Produce response size hint covers the encoded body at every served version", () => {
  expect(produceHandler.responseSizeHint).toBe(produceResponseSizeHint);
  for (let version = 3; version <= 11; version++) {
    for (const partitions of [1, 13, 1000]) {
      for (const withErrors of [false, true]) {
        const res = response(partitions, withErrors);
        const w = new Writer(16);
        writeProduceResponse(w, version, res);
        const hint = produceResponseSizeHint(res);
        expect(w.byteLength).toBeLessThanOrEqual(hint);
        // generous, not wasteful (at most 3x; v3-4 lack some fields), for the common answer (no error strings, which get 3 bytes a character)
        if (!withErrors) expect(hint).toBeLessThanOrEqual(3 * w.byteLength + 64);
      }
    }
  }
});
