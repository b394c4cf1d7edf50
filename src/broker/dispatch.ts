/**
 * Turns one request frame into response bytes: fixed header fields, handler lookup, version check,
 * header and body decoding with the generated codecs, the handler call, and response framing
 * ([int32 size][correlation id][tagged fields if flexible][body]).
 *
 * Protocol quirks honoured here:
 * - An ApiVersions request of a version we do not know is answered in the v0 layout with
 *   UNSUPPORTED_VERSION and our version ranges, so the client can retry with a version we serve.
 * - Any other unsupported version, unknown API key or undecodable request closes the connection,
 *   as Kafka does (it cannot know how to frame an answer the client would understand).
 * - On a SASL listener, until authentication succeeds only ApiVersions and SaslHandshake (before
 *   the handshake) and SaslAuthenticate (after it) are handled; anything else closes the
 *   connection, as Kafka's SASL server authenticator does.
 *
 * Tenants (src/tenant): a request from a tenant's principal has its topic, group and transactional
 * names moved into the tenant's namespace before the handler runs, and the response moved back
 * (and filtered to the tenant's resources) before quotas and framing. Handlers never know.
 */
import { responsePool, type ConnectionContext, type DispatchResult } from "../net/connection.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { writeApiVersionsResponse } from "../protocol/generated/api-versions-response.ts";
import { readRequestHeader } from "../protocol/generated/request-header.ts";
import { requestHeaderVersion, responseHeaderVersion } from "../protocol/header.ts";
import { Reader } from "../protocol/reader.ts";
import { Writer } from "../protocol/writer.ts";
import { CLOSE_CONNECTION, NO_RESPONSE, type ApiHandler, type RequestContext } from "../handlers/handler.ts";
import { apiVersionRanges, handlerFor } from "../handlers/registry.ts";
import type { Broker } from "./broker.ts";
import type { FetchResponse } from "../protocol/generated/fetch-response.ts";
import { applyQuotas } from "../quota/request-hook.ts";
import { tenantOf, tenantServiceFor } from "../tenant/tenant-context.ts";
import { translateRequest, translateResponse } from "../tenant/translate.ts";
import { giveBack } from "../util/lent-views.ts";

const API_VERSIONS_KEY = 18;
const FETCH_KEY = 1;
/**
 * Payloads (Fetch records) below this are copied into the response buffer rather than sent as
 * chunks of their own: copying into a pooled, already mapped block costs less than the extra
 * socket write per chunk (bench/response-buffers.bench.ts).
 */
const RESPONSE_ZERO_COPY_THRESHOLD = 64 * 1024;
/** Room for the size, correlation id and header tagged fields in front of the body. */
const HEADER_BYTES = 16;
/** Framing buffer for a response whose handler gives no size hint (most answers are small). */
const DEFAULT_RESPONSE_CAPACITY = 256;

export function dispatchFrame(broker: Broker, frame: Uint8Array, conn: ConnectionContext): DispatchResult | Promise<DispatchResult> {
  if (frame.length < 8) {
    broker.log(`connection ${conn.id}: frame of ${frame.length} bytes is too short for a request header; closing`);
    return "close";
  }
  const apiKey = (frame[0]! << 8) | frame[1]!;
  const apiVersion = ((frame[2]! << 8) | frame[3]!) << 16 >> 16;
  const correlationId = (frame[4]! << 24) | (frame[5]! << 16) | (frame[6]! << 8) | frame[7]!;
  const auth = conn.auth;
  if (auth && !auth.allows(apiKey)) {
    broker.log(`connection ${conn.id} from ${conn.remoteAddress}: API key ${apiKey} not allowed in SASL state ${auth.state}; closing`);
    auth.fail();
    return "close";
  }
  const handler = handlerFor(apiKey) as ApiHandler | undefined;
  if (!handler) {
    broker.log(`connection ${conn.id}: unsupported API key ${apiKey}; closing`);
    return "close";
  }
  if (apiVersion < handler.minVersion || apiVersion > handler.maxVersion) {
    if (apiKey === API_VERSIONS_KEY) return unsupportedApiVersions(correlationId);
    broker.log(`connection ${conn.id}: ${handler.name} v${apiVersion} is not supported (${handler.minVersion}-${handler.maxVersion}); closing`);
    return "close";
  }

  const r = new Reader(frame);
  const header = readRequestHeader(r, requestHeaderVersion(apiKey, apiVersion));
  const request = r.error ? undefined : handler.readRequest(r, apiVersion);
  if (r.error || request === undefined) {
    if (apiKey === API_VERSIONS_KEY) return unsupportedApiVersions(correlationId); // KIP-511: a client newer than us
    broker.log(`connection ${conn.id}: malformed ${handler.name} v${apiVersion} request: ${r.error}; closing`);
    return "close";
  }
  const ctx: RequestContext = { broker, apiVersion, correlationId, clientId: header.clientId ?? null, conn };
  const started = performance.now();
  const tenant = tenantOf(broker, conn);
  if (tenant !== null) {
    if (!tenantServiceFor(broker).connections.admit(conn.id, tenant)) {
      broker.log(`connection ${conn.id}: tenant ${tenant.tenant.name} is at its ${tenant.limits.connections} connection(s); closing`);
      return "close";
    }
    const fix = translateRequest(tenant, apiKey, apiVersion, request, ctx);
    const result = handler.handle(ctx, request);
    const handlerMs = performance.now() - started;
    const finish = (res: unknown) => frameResponse(handler, ctx, applyQuotas(ctx, apiKey, request, translateResponse(fix, res), handlerMs, tenant.quota));
    return result instanceof Promise ? result.then(finish) : finish(result);
  }
  const result = handler.handle(ctx, request);
  const handlerMs = performance.now() - started; // the synchronous part: event-loop time this request took
  if (result instanceof Promise) return result.then((res) => frameResponse(handler, ctx, applyQuotas(ctx, apiKey, request, res, handlerMs)));
  return frameResponse(handler, ctx, applyQuotas(ctx, apiKey, request, result, handlerMs));
}

/**
 * Frames a handler's result. The buffer comes from the connections' response pool when it is large
 * (a connection gives it back once written); responses whose handler estimates their size (Fetch
 * from its records, Produce from its partitions) are built in one buffer without copy-on-grow.
 */
export function frameResponse(handler: ApiHandler, ctx: RequestContext, res: unknown): DispatchResult {
  if (res === NO_RESPONSE) return null;
  if (res === CLOSE_CONNECTION) return "close";
  const hint = handler.responseSizeHint?.(res, RESPONSE_ZERO_COPY_THRESHOLD);
  const capacity = hint === undefined ? DEFAULT_RESPONSE_CAPACITY : HEADER_BYTES + hint;
  const w = new Writer(capacity, { pool: responsePool, zeroCopyThreshold: RESPONSE_ZERO_COPY_THRESHOLD });
  const size = w.reserveInt32();
  w.int32(ctx.correlationId);
  if (responseHeaderVersion(handler.apiKey, ctx.apiVersion) >= 1) w.uvarint(0); // empty tagged fields
  handler.writeResponse(w, ctx.apiVersion, res);
  w.patchInt32(size, w.byteLength - 4);
  const chunks = w.toChunks();
  if (handler.apiKey === FETCH_KEY) giveBackCopiedRecords(res as FetchResponse, chunks);
  return chunks;
}

/**
 * The records the writer copied into the response are dead now (the response object is dropped
 * after framing): give their views back to the memory tier. Records sent as chunks of their own
 * stay lent until the connection wrote them (src/net/connection.ts).
 */
function giveBackCopiedRecords(res: FetchResponse, chunks: readonly Uint8Array[]): void {
  for (const t of res.responses) {
    for (const p of t.partitions) {
      const records = p.records;
      if (records === null || records.length === 0) continue;
      if (records.length < RESPONSE_ZERO_COPY_THRESHOLD || !chunks.includes(records)) giveBack(records);
    }
  }
}

function unsupportedApiVersions(correlationId: number): DispatchResult {
  const w = new Writer(512);
  const size = w.reserveInt32();
  w.int32(correlationId);
  writeApiVersionsResponse(w, 0, {
    errorCode: ErrorCode.UNSUPPORTED_VERSION,
    apiKeys: apiVersionRanges(),
  });
  w.patchInt32(size, w.byteLength - 4);
  return w.toChunks();
}
