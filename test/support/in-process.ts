/**
 * Drives a Broker in-process through `dispatch(frame)`, no TCP: the same request bytes a client would
 * send, the same response bytes it would get, decoded with the generated codecs.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Broker } from "../../src/broker/broker.ts";
import { buildBrokerConfig } from "../../src/config/broker-config.ts";
import { decodeResponse, encodeRequest, type ApiCodec } from "../../src/client/wire-client.ts";
import type { ConnectionContext, DispatchResult } from "../../src/net/connection.ts";

export interface InProcessBroker {
  broker: Broker;
  dataDir: string;
  logs: string[];
  call<Req, Res>(codec: ApiCodec<Req, Res>, version: number, req: Req): Promise<Res>;
  /** The raw dispatch result for a request frame (without size prefix). */
  dispatchRaw(frame: Uint8Array): Promise<DispatchResult>;
  reopen(): Promise<InProcessBroker>;
  close(removeData?: boolean): Promise<void>;
}

const conn: ConnectionContext = { id: 1, remoteAddress: "127.0.0.1" };

export async function openInProcessBroker(overrides: Record<string, string> = {}, dataDir?: string): Promise<InProcessBroker> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), "bunka-unit-"));
  const raw = new Map<string, string>([["log.dirs", dir], ["listeners", "PLAINTEXT://127.0.0.1:0"], ...Object.entries(overrides)]);
  const logs: string[] = [];
  const broker = await Broker.open(buildBrokerConfig(raw), (m) => logs.push(m));
  broker.setBoundPort("127.0.0.1", 19092);
  let correlationId = 1;
  const self: InProcessBroker = {
    broker,
    dataDir: dir,
    logs,
    async call(codec, version, req) {
      const id = correlationId++;
      const frame = encodeRequest(codec as ApiCodec<unknown, unknown>, version, id, "unit-test", req).toBytes().subarray(4);
      const result = await broker.dispatch(frame, conn);
      if (result === null || result === "close") throw new Error(`no response: ${String(result)}`);
      const bytes = Buffer.concat(result);
      const size = bytes.readInt32BE(0);
      if (size !== bytes.length - 4) throw new Error(`size prefix ${size} but ${bytes.length - 4} bytes follow`);
      return decodeResponse(codec.apiKey, version, id, bytes.subarray(4), (r) => codec.readResponse(r, version));
    },
    async dispatchRaw(frame) {
      return broker.dispatch(frame, conn);
    },
    async reopen() {
      await broker.shutdown();
      return openInProcessBroker(overrides, dir);
    },
    async close(removeData = true) {
      await broker.shutdown();
      if (removeData) rmSync(dir, { recursive: true, force: true });
    },
  };
  return self;
}
