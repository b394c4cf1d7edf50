/**
 * Shared file mappings for segment appends (src/log/mapped-segment-file.ts): mmap, fallocate,
 * madvise and munmap from the C library, bound with bun:ffi. They are plain system calls with no
 * byte work of their own, so they need no Rust: the bytes are copied by the JS engine's memmove
 * into the mapping. `null` (see `fileMapping`) when the C library or a symbol cannot be bound
 * (not glibc Linux): callers then keep writing with pwrite.
 */
import { dlopen, FFIType, ptr, read, toArrayBuffer } from "bun:ffi";
import { errnoError } from "./index.ts";

const PROT_READ_WRITE = 0x1 | 0x2;
const MAP_SHARED = 0x1;
/** Linux 5.14+: fault the range in writable, as if each page were written once. */
const MADV_POPULATE_WRITE = 23;
/** On a shared file mapping: drops the page table entries only; the pages (dirty or not) stay in the page cache. */
const MADV_DONTNEED = 4;

export interface FileMapping {
  /**
   * Maps `length` bytes of `fd` from offset 0, shared and writable. The view must only be touched
   * below the file's size (beyond it the kernel raises SIGBUS), and never after `unmap`.
   */
  map(fd: number, length: number): Uint8Array;
  unmap(view: Uint8Array): void;
  /** Allocates blocks for [offset, offset + length) and grows the file's size over it (mode 0). */
  allocate(fd: number, offset: number, length: number): void;
  /** Best effort: pre-faults [offset, offset + length) of the mapping writable (one call, not one fault per page). */
  populate(view: Uint8Array, offset: number, length: number): void;
  /** Unmaps the pages of [offset, offset + length) from this process (their data stays in the file's page cache). */
  release(view: Uint8Array, offset: number, length: number): void;
}

function bind(): FileMapping | null {
  let lib;
  try {
    lib = dlopen("libc.so.6", {
      mmap: { args: [FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.i32, FFIType.i32, FFIType.i64], returns: FFIType.i64 },
      munmap: { args: [FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
      fallocate: { args: [FFIType.i32, FFIType.i32, FFIType.i64, FFIType.i64], returns: FFIType.i32 },
      madvise: { args: [FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
      __errno_location: { args: [], returns: FFIType.ptr },
    });
  } catch {
    return null;
  }
  const c = lib.symbols;
  // errno is thread-local; these calls run on the JS thread and nothing runs between the call and
  // this read.
  const errno = (): number => read.i32(c.__errno_location() as NonNullable<ReturnType<typeof c.__errno_location>>, 0);
  return {
    map(fd, length) {
      const address = Number(c.mmap(null, length, PROT_READ_WRITE, MAP_SHARED, fd, 0));
      if (address === -1) throw errnoError(errno(), "mmap");
      return new Uint8Array(toArrayBuffer(address as unknown as Parameters<typeof toArrayBuffer>[0], 0, length));
    },
    unmap(view) {
      if (c.munmap(ptr(view), view.byteLength) !== 0) throw errnoError(errno(), "munmap");
    },
    allocate(fd, offset, length) {
      if (c.fallocate(fd, 0, offset, length) !== 0) throw errnoError(errno(), "fallocate");
    },
    populate(view, offset, length) {
      c.madvise(ptr(view, offset), length, MADV_POPULATE_WRITE);
    },
    release(view, offset, length) {
      if (c.madvise(ptr(view, offset), length, MADV_DONTNEED) !== 0) throw errnoError(errno(), "madvise");
    },
  };
}

let bound: FileMapping | null | undefined;

/** The bound calls, or null where they are not available. */
export function fileMapping(): FileMapping | null {
  if (bound === undefined) bound = bind();
  return bound;
}
