//! Page-cache and mapping warm-up off the JS thread (used by src/log/page-cache-warmer.ts and
//! src/log/mapped-segment-file.ts): one system call per N-API async task, run on the runtime's
//! worker pool, resolving with 0 or the call's errno (nothing is thrown for a failed call).
//!
//! - `readahead(2)` of a file range: the kernel allocates the range's page-cache pages (a hole of
//!   the file's sparse tail becomes zero-filled pages, no disk block and no I/O), so the JS
//!   thread's later writes land in pages that exist. Unlike a `pread` into a scratch buffer,
//!   nothing is copied to user space. The kernel caps one call at the device's readahead limit
//!   (8 MiB here); the warmer asks for less.
//! - `madvise(MADV_POPULATE_WRITE)` of a range of this process's shared file mapping: the write
//!   faults of the pages an append will store to next (the page table entry, and ext4's block
//!   reservation and dirtying in `page_mkwrite`) are taken here instead of on the JS thread. The
//!   caller keeps the range mapped until the task has resolved.
//! - `sync_file_range(SYNC_FILE_RANGE_WRITE)` of a file range: starts the writeback of its dirty
//!   pages without waiting for it, so a flush-interval segment's data goes to disk a few MiB at a
//!   time while it is written, not all at once in the fsync after a roll (write-behind).

use napi::bindgen_prelude::*;
use napi::{Env, Task};
use napi_derive::napi;

/// The two calls this module runs; each returns 0 or -1 with errno set.
pub enum WarmCall {
    Readahead { fd: i32, offset: i64, length: usize },
    PopulateWrite { address: usize, length: usize },
    WriteBehind { fd: i32, offset: i64, length: i64 },
}

impl Task for WarmCall {
    /// 0, or the errno of the failed call.
    type Output = i32;
    type JsValue = i32;

    fn compute(&mut self) -> Result<Self::Output> {
        let r = match *self {
            // SAFETY: readahead takes plain integers; a descriptor closed meanwhile gives EBADF.
            WarmCall::Readahead { fd, offset, length } => (unsafe { libc::readahead(fd, offset, length) }) as i64,
            // SAFETY: madvise only faults pages of the caller's own mapping in; an address that is
            // not mapped gives ENOMEM, a page past the file's end EFAULT — neither touches memory.
            WarmCall::PopulateWrite { address, length } => (unsafe { libc::madvise(address as *mut libc::c_void, length, libc::MADV_POPULATE_WRITE) }) as i64,
            // SAFETY: integers only; it starts writeback of pages already dirty, writes no byte.
            WarmCall::WriteBehind { fd, offset, length } => (unsafe { libc::sync_file_range(fd, offset, length, libc::SYNC_FILE_RANGE_WRITE) }) as i64,
        };
        Ok(if r == 0 { 0 } else { std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO) })
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output)
    }
}

/// Resolves with 0 once the kernel has brought `[offset, offset + length)` of `fd` into the page
/// cache (as far as it takes one call), or with the errno of the failure.
#[napi]
pub fn readahead_async(fd: i32, offset: f64, length: f64) -> Result<AsyncTask<WarmCall>> {
    if fd < 0 || !(offset >= 0.0) || !(length >= 0.0) || offset > i64::MAX as f64 {
        return Err(Error::new(Status::InvalidArg, "readahead: bad descriptor, offset or length".to_string()));
    }
    Ok(AsyncTask::new(WarmCall::Readahead { fd, offset: offset as i64, length: length as usize }))
}

/// Resolves with 0 once `[address, address + length)` (page-aligned, inside a shared writable
/// mapping of this process) is populated writable, or with the errno of the failure (EFAULT: a
/// page could not be made writable, e.g. no disk block left to reserve).
#[napi]
pub fn populate_write_async(address: f64, length: f64) -> Result<AsyncTask<WarmCall>> {
    let page = 4096.0;
    if !(address > 0.0) || !(length >= 0.0) || address % page != 0.0 || address >= (1u64 << 56) as f64 || length > (1u64 << 40) as f64 {
        return Err(Error::new(Status::InvalidArg, "populate: bad address or length".to_string()));
    }
    Ok(AsyncTask::new(WarmCall::PopulateWrite { address: address as usize, length: length as usize }))
}

/// Resolves with 0 once the kernel has started writing back the dirty pages of `[offset, offset +
/// length)` of `fd` (it does not wait for the writes to finish), or with the errno of the failure.
#[napi]
pub fn write_behind_async(fd: i32, offset: f64, length: f64) -> Result<AsyncTask<WarmCall>> {
    if fd < 0 || !(offset >= 0.0) || !(length >= 0.0) || offset > i64::MAX as f64 || length > i64::MAX as f64 {
        return Err(Error::new(Status::InvalidArg, "write-behind: bad descriptor, offset or length".to_string()));
    }
    Ok(AsyncTask::new(WarmCall::WriteBehind { fd, offset: offset as i64, length: length as i64 }))
}
