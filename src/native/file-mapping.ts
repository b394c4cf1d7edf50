/**
 * Shared file mappings for segment appends (src/log/mapped-segment-file.ts): mmap, madvise,
 * memcpy and munmap from the C library, bound with bun:ffi: plain system calls and one memcpy per
 * append, nothing the Rust addon would do better. `null` (see `fileMapping`) when the C library
 * or a symbol cannot be bound (not glibc Linux) or the kernel lacks MADV_POPULATE_WRITE (before
 * 5.14): callers then keep writing with pwrite.
 */
import { dlopen, FFIType, ptr, read } from "bun:ffi";
import { errnoError, populateWriteAsync } from "./index.ts";

const PROT_READ_WRITE = 0x1 | 0x2;
const MAP_SHARED = 0x1;
const MAP_PRIVATE = 0x2;
const MAP_ANONYMOUS = 0x20;
const PAGE = 4096;
/** Linux 5.14+: fault the range in writable, as if each page were written once. */
const MADV_POPULATE_WRITE = 23;
/** On a shared file mapping: drops the page table entries only; the pages (dirty or not) stay in the page cache. */
const MADV_DONTNEED = 4;
/** No read-around on faults through this mapping (each fault brings in its own page only). */
const MADV_RANDOM = 1;
const EFAULT = 14;
const ENOSPC = 28;

export interface FileMapping {
  /**
   * Maps `length` bytes of `fd` from offset 0, shared and writable; returns the address. JS never
   * sees the mapping as an ArrayBuffer: a 1 GiB external buffer per file counted as heap memory and
   * kept the collector from running at all (measured: garbage piled up at the produce rate).
   * Addresses must only be written below the file's size (beyond it the kernel raises SIGBUS).
   * Faults through the mapping read no pages around the faulting one (MADV_RANDOM).
   */
  map(fd: number, length: number): number;
  unmap(address: number, length: number): void;
  /**
   * Pre-faults [address, address + length) writable (one call, not one fault per page); throws
   * ENOSPC when the kernel could not make a page writable (it answers EFAULT where a store would
   * have raised SIGBUS: on ext4, no disk block left to reserve).
   */
  populate(address: number, length: number): void;
  /**
   * The same, on the runtime's worker pool: resolves with 0, or with the errno of the failure
   * (nothing thrown). With `releaseLength` > 0 it first does what `release` does to that range
   * (there, a failure only leaves pages mapped). The ranges must stay mapped until the promise
   * has settled.
   */
  populateAsync(address: number, length: number, releaseAddress?: number, releaseLength?: number): Promise<number>;
  /** Unmaps the pages of [address, address + length) from this process (their data stays in the file's page cache). */
  release(address: number, length: number): void;
  /** Copies all of `data` to `address`. */
  copy(address: number, data: Uint8Array): void;
}

function bind(): FileMapping | null {
  let lib;
  try {
    lib = dlopen("libc.so.6", {
      mmap: { args: [FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.i32, FFIType.i32, FFIType.i64], returns: FFIType.i64 },
      munmap: { args: [FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
      madvise: { args: [FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
      memcpy: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.ptr },
      __errno_location: { args: [], returns: FFIType.ptr },
    });
  } catch {
    return null;
  }
  const c = lib.symbols;
  type Pointer = Parameters<typeof read.i32>[0];
  // errno is thread-local; these calls run on the JS thread and nothing runs between the call and
  // this read.
  const errno = (): number => read.i32(c.__errno_location() as Pointer, 0);
  // MADV_POPULATE_WRITE is how a full disk becomes an error instead of a SIGBUS: without it
  // (Linux before 5.14 answers EINVAL) nothing is mapped at all. Probed on one anonymous page.
  const probe = Number(c.mmap(null, PAGE, PROT_READ_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (probe === -1) return null;
  const populates = c.madvise(probe as Pointer, PAGE, MADV_POPULATE_WRITE) === 0;
  c.munmap(probe as Pointer, PAGE);
  if (!populates) return null;
  return {
    map(fd, length) {
      const address = Number(c.mmap(null, length, PROT_READ_WRITE, MAP_SHARED, fd, 0));
      if (address === -1) throw errnoError(errno(), "mmap");
      // A fault on a page not yet in the page cache otherwise reads around it: read_ahead_kb of the
      // disk (8 MiB on the benchmark VM), up to the end of the sparse tail, every page zero-filled
      // and added to the cache in that one fault — 50-100 ms on the event loop, once per few MiB
      // appended to each partition (found as 100 ms loop stalls at 100 partitions × 60 MiB/s).
      // Appends never read through the mapping, so read-around buys nothing. Advisory: a kernel
      // that refused it would only keep the slower faults.
      c.madvise(address as Pointer, length, MADV_RANDOM);
      return address;
    },
    unmap(address, length) {
      if (c.munmap(address as Pointer, length) !== 0) throw errnoError(errno(), "munmap");
    },
    populate(address, length) {
      if (c.madvise(address as Pointer, length, MADV_POPULATE_WRITE) === 0) return;
      const code = errno();
      throw code === EFAULT ? errnoError(ENOSPC, "madvise", "no space left to populate the mapped pages") : errnoError(code, "madvise");
    },
    populateAsync(address, length, releaseAddress = 0, releaseLength = 0) {
      return populateWriteAsync(address, length, releaseAddress, releaseLength);
    },
    release(address, length) {
      if (c.madvise(address as Pointer, length, MADV_DONTNEED) !== 0) throw errnoError(errno(), "madvise");
    },
    copy(address, data) {
      c.memcpy(address as Pointer, ptr(data), data.length);
    },
  };
}

let bound: FileMapping | null | undefined;

/** The bound calls, or null where they are not available. */
export function fileMapping(): FileMapping | null {
  if (bound === undefined) bound = bind();
  return bound;
}
