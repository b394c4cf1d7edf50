/**
 * The shape of one Kafka API's handler. Each `NN-name.ts` file in this folder exports one, built from
 * the generated codec for its request and response; `registry.ts` collects them and ApiVersions is
 * answered from that registry, so the broker never advertises an API it does not serve.
 */
import type { Broker } from "../broker/broker.ts";
import type { ConnectionContext } from "../net/connection.ts";
import type { Reader } from "../protocol/reader.ts";
import type { Writer } from "../protocol/writer.ts";

export interface RequestContext {
  readonly broker: Broker;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId: string | null;
  readonly conn: ConnectionContext;
}

/** Returned by a handler that must not answer (Produce with acks=0). */
export const NO_RESPONSE = Symbol("no-response");
/** Returned by a handler whose client must notice a failure it gets no answer for (acks=0 errors). */
export const CLOSE_CONNECTION = Symbol("close-connection");

type Special = typeof NO_RESPONSE | typeof CLOSE_CONNECTION;

export interface ApiHandler<Req = unknown, Res = unknown> {
  readonly apiKey: number;
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  readRequest(r: Reader, version: number): Req;
  writeResponse(w: Writer, version: number, res: Res): void;
  handle(ctx: RequestContext, req: Req): Res | Special | Promise<Res | Special>;
  /**
   * A generous estimate of the response body's encoded size, so it is framed into one buffer
   * without growing (each growth is a fresh buffer, a copy and garbage for the collector). Records
   * sets of `copyBelow` bytes and more are sent as chunks of their own and need no room. Without
   * it the framing starts small (most responses are).
   */
  responseSizeHint?(res: Res, copyBelow: number): number;
}

/** Typed helper so each handler file gets inference for its request and response types. */
export function defineHandler<Req, Res>(h: ApiHandler<Req, Res>): ApiHandler<Req, Res> {
  return h;
}
