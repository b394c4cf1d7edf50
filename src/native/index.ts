/**
 * Typed wrapper around the Rust N-API addon (native/bunka.node).
 *
 * This is the ONLY module in Bunka that loads the .node file. Everything else
 * imports from here. There is deliberately no JavaScript fallback: if the addon
 * is missing the broker refuses to start instead of silently running slow code.
 */
import { dlopen, FFIType, ptr } from "bun:ffi";
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { constants as osConstants } from "node:os";
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
  ioUringProbe(): string;
  IoEngine: new (mode: string, onReady: () => void) => IoEngineBinding;
  readaheadAsync(fd: number, offset: number, length: number): Promise<number>;
  populateWriteAsync(address: number, length: number, releaseAddress?: number, releaseLength?: number): Promise<number>;
  writeBehindAsync(fd: number, offset: number, length: number): Promise<number>;
  dropCachedAsync(fd: number, offset: number, length: number): Promise<number>;
}

/** Counters of an I/O engine since it started (see native/src/segment_io.rs). */
export interface IoEngineStats {
  writes: number;
  writeBytes: number;
  /** writev SQEs (io_uring) or pwritev loops (pwrite): contiguous writes are merged. */
  writevCalls: number;
  syncRequests: number;
  /** fdatasyncs actually run: one covers every sync request queued before it. */
  fdatasyncs: number;
  chains: number;
  cycles: number;
  /** eventfd writes that woke the worker. */
  wakeups: number;
  /** Completion notifications sent to the JS thread. */
  notifies: number;
  /** Chains re-run blocking after an unclean ring result (errors, short writes). */
  slowPaths: number;
  asyncReads: number;
  /** Syncs run inline on the JS thread (the low-load path of submit). */
  inlineSyncs: number;
  /** syncfs(2) calls of cross-file group commits, and the files' sync chains they covered. */
  syncfsCalls: number;
  syncfsCovered: number;
  /** Time spent in those syncfs calls (µs). */
  syncfsMicros: number;
}

/** Raw `IoEngine` of the addon. Use src/log/native-segment-file.ts, which wraps it. */
export interface IoEngineBinding {
  readonly backend: "io_uring" | "pwrite" | "pwrite-fallback";
  readonly fallbackReason: string | null;
  /** io_uring setup flags: "single_issuer+defer_taskrun" or "plain", plus "+no_iowait_idle" (idle waits not counted as iowait, Linux 6.15+); "" for pwrite. */
  readonly ringFlags: string;
  open(path: string): NativeFileBinding;
  takeCompletions(): number[];
  takeRead(token: number): Uint8Array<ArrayBuffer> | null;
  refLoop(): void;
  unrefLoop(): void;
  stats(): IoEngineStats;
  /**
   * `bunka.log.syncfs.min.files`: a worker cycle in which at least n files wait for a sync writes
   * them and runs one syncfs(2) per filesystem instead of one fdatasync per file; 0 = never.
   */
  setSyncfsMinFiles(n: number): void;
  /**
   * Queues many ops with one native call (one queue lock, at most one wake-up). Op i is on
   * files[i]; kinds[i]: 0 write (the next entry of `data`, at positions[i]), 1 datasync (completion
   * tokens[i]), 2 flush. Writes to a failed or closed file are dropped. The worker writes from the
   * `data` buffers in place (no copy): they must stay unmodified until the covering sync settled.
   * inlineMaxBytes > 0 allows running one file's writes (up to that many bytes) and its single
   * sync right here when that file is idle; the completions are then returned
   * ([token, status, errno, ...]), else the result is empty.
   */
  submit(files: NativeFileBinding[], kinds: Uint8Array, positions: Float64Array, tokens: Uint32Array, data: Uint8Array[], inlineMaxBytes: number): number[];
}

/** Raw `NativeFile`: errors thrown carry "ERRNO:<n>:" (see ioError). */
export interface NativeFileBinding {
  readonly initialSize: number;
  /** The descriptor (-1 once closed), for positioned reads on the JS thread. */
  readonly fd: number;
  readonly failedErrno: number;
  write(pos: number, data: Uint8Array, wake: boolean): number;
  sync(token: number): void;
  /** Starts the writes queued so far without an fsync (they are otherwise left for the next sync). */
  kick(): void;
  read(pos: number, len: number): Uint8Array<ArrayBuffer>;
  readAsync(pos: number, len: number, token: number): void;
  writtenEnd(): number;
  truncate(size: number): void;
  close(): void;
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
 * The addon's C entry for CRC-32C (`bunka_crc32c` in native/src/crc.rs) through bun:ffi: the same
 * function as the napi export at about a fifth of the call cost (0.1 vs 0.5 µs per call,
 * bench/RESULTS.md), which the produce path pays once per batch. Null when the symbol cannot be
 * bound; the napi export is used then.
 */
const ffiCrc32c: ((initial: number, data: number, len: number) => number) | null = (() => {
  try {
    const lib = dlopen(NATIVE_ADDON_PATH, { bunka_crc32c: { args: [FFIType.u32, FFIType.ptr, FFIType.u64], returns: FFIType.u32 } });
    return lib.symbols.bunka_crc32c as (initial: number, data: number, len: number) => number;
  } catch {
    return null;
  }
})();

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
  if (ffiCrc32c !== null && data instanceof Uint8Array) {
    return data.length === 0 ? (initial ?? 0) >>> 0 : ffiCrc32c((initial ?? 0) >>> 0, ptr(data), data.length);
  }
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
  // The C entry reads raw memory: only a range checked to lie inside the view goes there; anything
  // else takes the napi path, which throws the descriptive error.
  if (ffiCrc32c !== null && data instanceof Uint8Array && Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= data.length) {
    return start === end ? 0 : ffiCrc32c(0, ptr(data, start), end - start);
  }
  try {
    return binding.crc32cRange(data, start, end);
  } catch (err) {
    throw explain("crc32cRange", data, err);
  }
}

/**
 * Which CRC-32C implementation the addon uses on this machine (and whether it is called through
 * bun:ffi or napi), the codecs it provides, and the
 * segment I/O backend in use: "io_uring", "pwrite" (asked for), "pwrite-fallback" (io_uring
 * refused under bunka.log.io=auto), "js" (the libuv path), or null before any log was opened
 * through src/log/native-segment-file.ts.
 */
export function nativeInfo(): { crcImpl: string; crcCall: "ffi" | "napi"; codecs: string[]; io: string | null } {
  return { crcImpl: binding.crc32cImpl(), crcCall: ffiCrc32c !== null ? "ffi" : "napi", codecs: binding.codecNames(), io: ioBackendInUse };
}

/** The napi export of CRC-32C, bypassing the FFI entry (tests and benchmarks compare the two). */
export function crc32cViaNapi(data: Uint8Array, initial = 0): number {
  return binding.crc32c(data, initial >>> 0);
}

// --- segment I/O -------------------------------------------------------------------------------

let ioBackendInUse: string | null = null;

/** Recorded by src/log/native-segment-file.ts when it picks a backend; read by nativeInfo().io. */
export function setIoBackendInUse(name: string): void {
  ioBackendInUse = name;
}

/** "" when this process may set up an io_uring, else why not (e.g. "io_uring_setup: ... (errno 1)"). */
export function ioUringProbe(): string {
  return binding.ioUringProbe();
}

/**
 * Starts a native I/O engine (one worker thread): mode "auto" | "io_uring" | "pwrite". Throws
 * (an ioError) when mode is "io_uring" and the kernel refuses it. `onReady` runs on the JS thread
 * when completions can be taken.
 */
export function createIoEngine(mode: "auto" | "io_uring" | "pwrite", onReady: () => void): IoEngineBinding {
  try {
    return new binding.IoEngine(mode, onReady);
  } catch (err) {
    throw ioError(err);
  }
}

/**
 * readahead(2) of `[offset, offset + length)` of `fd` on the runtime's worker pool (see
 * native/src/page_cache.rs): resolves with 0, or with the errno of a failed call.
 */
export function readaheadAsync(fd: number, offset: number, length: number): Promise<number> {
  return binding.readaheadAsync(fd, offset, length);
}

/**
 * MADV_POPULATE_WRITE of `[address, address + length)` of a shared file mapping of this process,
 * on the runtime's worker pool (native/src/page_cache.rs): resolves with 0, or with the errno of a
 * failed call. With `releaseLength` > 0 the pages of `[releaseAddress, releaseAddress +
 * releaseLength)` are unmapped first (MADV_DONTNEED, page cache kept; a failure is ignored). Both
 * ranges must stay mapped until the promise has settled.
 */
export function populateWriteAsync(address: number, length: number, releaseAddress = 0, releaseLength = 0): Promise<number> {
  return binding.populateWriteAsync(address, length, releaseAddress, releaseLength); // a length of 0 releases nothing
}

/**
 * sync_file_range(SYNC_FILE_RANGE_WRITE) of `[offset, offset + length)` of `fd` on the addon's
 * write-behind thread, 10 nice steps below the process (native/src/page_cache.rs): the writeback
 * of those dirty pages starts; resolves with 0 (without waiting for the writes), or with the errno
 * of a failed call.
 */
export function writeBehindAsync(fd: number, offset: number, length: number): Promise<number> {
  return binding.writeBehindAsync(fd, offset, length);
}

/**
 * On the same write-behind thread, after the calls queued before it: waits for the writeback of
 * `[offset, offset + length)` of `fd` (sync_file_range with WAIT_BEFORE | WRITE | WAIT_AFTER), then
 * drops its clean pages from the page cache (posix_fadvise DONTNEED); resolves with 0 or the errno
 * of the failed call. Dirty or mapped pages are kept, so nothing is lost.
 */
export function dropCachedAsync(fd: number, offset: number, length: number): Promise<number> {
  return binding.dropCachedAsync(fd, offset, length);
}

const ERRNO_NAMES: Map<number, string> = (() => {
  const m = new Map<number, string>();
  for (const [name, n] of Object.entries(osConstants.errno)) if (!m.has(n)) m.set(n, name);
  return m;
})();

/** errno → "ENOSPC" etc. ("EUNKNOWN" for numbers Node does not name). */
export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? "EUNKNOWN";
}

/** A Node-style error: message "CODE: what: description", with `code`, `errno` and `syscall`. */
export function errnoError(errno: number, syscall: string, description?: string): NodeJS.ErrnoException {
  const code = errnoName(errno);
  const err: NodeJS.ErrnoException = new Error(`${code}: ${description ?? "I/O error"}, ${syscall}`);
  err.code = code;
  err.errno = -errno;
  err.syscall = syscall;
  return err;
}

/** Turns a native I/O error ("ERRNO:<n>:<what>: <msg>") into errnoError; other errors pass through. */
export function ioError(err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  const m = /^ERRNO:(\d+):([^:]*): (.*)$/s.exec(message);
  if (m === null) return err instanceof Error ? err : new Error(message);
  return errnoError(Number(m[1]), m[2] as string, (m[3] as string).replace(/ \(os error \d+\)$/, ""));
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
