/**
 * Typed wrapper around the Rust N-API addon (native/bunka.node).
 *
 * This is the ONLY module in Bunka that loads the .node file. Everything else
 * imports from here. There is deliberately no JavaScript fallback: if the addon
 * is missing the broker refuses to start instead of silently running slow code.
 */
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Shape of the raw exports of native/bunka.node (napi-rs camelCases names). */
interface NativeBinding {
  crc32c(data: Uint8Array, initial?: number): number;
  crc32cRange(data: Uint8Array, start: number, end: number): number;
  crc32cImpl(): string;
  /** Fresh, unshared memory (napi Buffer from a Rust Vec). */
  compress(codec: number, data: Uint8Array, level?: number): Uint8Array<ArrayBuffer>;
  decompress(codec: number, data: Uint8Array, maxOutputBytes: number): Uint8Array<ArrayBuffer>;
  codecNames(): string[];
}

/** Absolute path of the compiled addon, fixed by scripts/build-native.ts. */
export const NATIVE_ADDON_PATH: string = fileURLToPath(
  new URL("../../native/bunka.node", import.meta.url),
);

function loadBinding(): NativeBinding {
  if (!existsSync(NATIVE_ADDON_PATH)) {
    throw new Error(
      `bunka native addon not found at ${NATIVE_ADDON_PATH}. ` +
        "Build it with `bun run build:native` (requires cargo / a Rust toolchain).",
    );
  }
  const require = createRequire(import.meta.url);
  try {
    return require(NATIVE_ADDON_PATH) as NativeBinding;
  } catch (err) {
    throw new Error(
      `bunka native addon at ${NATIVE_ADDON_PATH} failed to load ` +
        `(${err instanceof Error ? err.message : String(err)}). ` +
        "Rebuild it with `bun run build:native`.",
      { cause: err },
    );
  }
}

const binding: NativeBinding = loadBinding();

/**
 * Turns napi-rs's terse argument errors into a TypeError naming the function.
 * Only runs on the failure path, so the hot path stays a direct native call.
 */
function explain(fn: string, data: unknown, err: unknown): Error {
  if (!(data instanceof Uint8Array)) {
    const what = data === null ? "null" : typeof data === "object" ? data.constructor?.name : typeof data;
    return new TypeError(`${fn}: expected a Uint8Array or Buffer, got ${what}`, { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * CRC-32C (Castagnoli) of `data`, as an unsigned 32-bit integer.
 * `initial` is a previous CRC result to continue from, so that
 * `crc32c(b, crc32c(a)) === crc32c(concat(a, b))`. Defaults to 0.
 * Respects `byteOffset`/`byteLength` of views; no copy is made.
 */
export function crc32c(data: Uint8Array, initial?: number): number {
  try {
    return initial === undefined ? binding.crc32c(data) : binding.crc32c(data, initial >>> 0);
  } catch (err) {
    throw explain("crc32c", data, err);
  }
}

/**
 * CRC-32C of `data[start, end)` (indices relative to the view, like
 * `subarray`), as an unsigned 32-bit integer, without creating a view.
 * Throws an Error unless `0 <= start <= end <= data.length`.
 */
export function crc32cRange(data: Uint8Array, start: number, end: number): number {
  try {
    return binding.crc32cRange(data, start, end);
  } catch (err) {
    throw explain("crc32cRange", data, err);
  }
}

/** Which CRC-32C implementation the addon uses on this machine, and the codecs it provides. */
export function nativeInfo(): { crcImpl: string; codecs: string[] } {
  return { crcImpl: binding.crc32cImpl(), codecs: binding.codecNames() };
}

// --- compression codecs ------------------------------------------------------------------------

/**
 * Kafka's compression codec ids: the value of bits 0-2 of a v2 batch's attributes. 0 (none) is
 * never passed to `compress`/`decompress`.
 */
export const Codec = {
  none: 0,
  gzip: 1,
  snappy: 2,
  lz4: 3,
  zstd: 4,
} as const;
export type CodecId = (typeof Codec)[keyof typeof Codec];
/** The ids `compress`/`decompress` accept. */
export type CompressionCodecId = Exclude<CodecId, 0>;
export type CodecName = keyof typeof Codec;

const CODEC_NAMES: readonly CodecName[] = ["none", "gzip", "snappy", "lz4", "zstd"];

/** "gzip" for 1 and so on; "unknown(n)" for ids Kafka does not define. */
export function codecName(id: number): string {
  return CODEC_NAMES[id] ?? `unknown(${id})`;
}

/**
 * Why a codec call failed:
 *  - "limit": decompressed output would exceed `maxOutputBytes` (the call stopped there);
 *  - "corrupt": the compressed bytes are malformed (bad header, truncated frame, checksum...);
 *  - "argument": bad codec id, level or bound.
 */
export type CodecErrorKind = "limit" | "corrupt" | "argument";

export class CodecError extends Error {
  constructor(
    readonly kind: CodecErrorKind,
    readonly codec: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "CodecError";
  }
}

const TAGS: readonly [string, CodecErrorKind][] = [
  ["LIMIT:", "limit"],
  ["CORRUPT:", "corrupt"],
  ["ARG:", "argument"],
];

function codecFailure(fn: string, codec: number, data: unknown, err: unknown): Error {
  if (!(data instanceof Uint8Array)) return explain(fn, data, err);
  const message = err instanceof Error ? err.message : String(err);
  for (const [tag, kind] of TAGS) {
    if (message.startsWith(tag)) {
      return new CodecError(kind, codec, `${codecName(codec)} ${fn}: ${message.slice(tag.length)}`, { cause: err });
    }
  }
  return new CodecError("argument", codec, `${codecName(codec)} ${fn}: ${message}`, { cause: err });
}

/**
 * Compresses `data` in Kafka's wire format for `codec`: gzip (RFC 1952), snappy in
 * snappy-java's xerial framing (32 KiB blocks), LZ4 frame (64 KiB independent blocks), zstd
 * frame with content size. `level`: gzip 1-9 (default 6), zstd 1-22 and negatives (default 3);
 * snappy and lz4 have no levels and ignore it. Synchronous: it runs on the calling thread (see
 * bench/RESULTS.md "Codecs" for the cost per MiB). Throws CodecError.
 */
export function compress(codec: CompressionCodecId, data: Uint8Array, level?: number): Uint8Array<ArrayBuffer> {
  try {
    return level === undefined ? binding.compress(codec, data) : binding.compress(codec, data, level);
  } catch (err) {
    throw codecFailure("compress", codec, data, err);
  }
}

/**
 * Decompresses `data` (as Kafka clients write it; snappy may be xerial-framed or raw), never
 * producing, nor allocating room for, more than `maxOutputBytes`: past that it stops and throws
 * CodecError kind "limit". Malformed input throws kind "corrupt". Synchronous.
 */
export function decompress(codec: CompressionCodecId, data: Uint8Array, maxOutputBytes: number): Uint8Array<ArrayBuffer> {
  try {
    return binding.decompress(codec, data, maxOutputBytes);
  } catch (err) {
    throw codecFailure("decompress", codec, data, err);
  }
}
