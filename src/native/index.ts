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

/** Which CRC-32C implementation the addon uses on this machine. */
export function nativeInfo(): { crcImpl: string } {
  return { crcImpl: binding.crc32cImpl() };
}
