//! Page-cache and mapping warm-up off the JS thread (used by src/log/page-cache-warmer.ts and
//! src/log/mapped-segment-file.ts): one system call per call from JS, resolving with 0 or the
//! call's errno (nothing is thrown for a failed call).
//!
//! - `readahead(2)` of a file range (an N-API async task on the runtime's worker pool): the kernel
//!   allocates the range's page-cache pages (a hole of the file's sparse tail becomes zero-filled
//!   pages, no disk block and no I/O), so the JS thread's later writes land in pages that exist.
//!   Unlike a `pread` into a scratch buffer, nothing is copied to user space. The kernel caps one
//!   call at the device's readahead limit (8 MiB here); the warmer asks for less.
//! - `madvise(MADV_POPULATE_WRITE)` of a range of this process's shared file mapping (worker pool
//!   too): the write faults of the pages an append will store to next (the page table entry, and
//!   ext4's block reservation and dirtying in `page_mkwrite`) are taken there instead of on the JS
//!   thread. The caller keeps the range mapped until the task has resolved.
//! - `sync_file_range(SYNC_FILE_RANGE_WRITE)` of a file range: starts the writeback of its dirty
//!   pages without waiting for it, so a flush-interval segment's data goes to disk a few MiB at a
//!   time while it is written, not all at once in the fsync after a roll (write-behind).
//! - `sync_file_range` waiting for a range's writeback, then `posix_fadvise(DONTNEED)` of it: the
//!   written-back data of a flush-interval segment leaves the page cache, so the writer's next
//!   pages are the ones it gave back rather than fresh memory (drop behind the writer).
//!
//! The last two run on a thread of this module's own, 10 nice steps below the process.
//!
//! Why write-behind has a low-priority thread: each call builds and submits the writeback of
//! 8 MiB (ext4's block allocation, 2048 pages), milliseconds of CPU that are never urgent. On the
//! runtime's pool they ran at the broker's own priority, and with two cores the event loop and
//! the clients waited behind them: at 1 × 60 MiB/s after a maximum step, e2e p99 was 5-9 ms, and
//! about 2 ms with them 10 steps lower (bench/RESULTS.md, session 24). The readaheads and
//! populates stay at the process's priority: lowered as well, the 100-partition unthrottled
//! maximum lost warming it needs (319-411 against 335-685 MiB/s at nice 19), and the
//! 100 × 10 MiB/s point did not gain. The runtime's pool itself is shared with other work (file
//! writes of metadata) and is not lowered. Lowering a thread's own priority needs no privilege.

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Mutex, OnceLock};
use std::thread;

use napi::bindgen_prelude::*;
use napi::{Env, JsDeferred, Task};
use napi_derive::napi;

/// The calls this module runs; each returns 0 or -1 with errno set.
pub enum WarmCall {
    Readahead { fd: i32, offset: i64, length: usize },
    /// With `release_length` > 0, first MADV_DONTNEED of `[release_address, + release_length)`.
    PopulateWrite { address: usize, length: usize, release_address: usize, release_length: usize },
    WriteBehind { fd: i32, offset: i64, length: i64 },
    DropCached { fd: i32, offset: i64, length: i64 },
}

impl Task for WarmCall {
    /// 0, or the errno of the failed call.
    type Output = i32;
    type JsValue = i32;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(self.run())
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output)
    }
}

impl WarmCall {
    /// The system call: 0, or its errno.
    fn run(&self) -> i32 {
        let r = match *self {
            // SAFETY: readahead takes plain integers; a descriptor closed meanwhile gives EBADF.
            WarmCall::Readahead { fd, offset, length } => (unsafe { libc::readahead(fd, offset, length) }) as i64,
            // SAFETY: madvise only faults pages of the caller's own mapping in; an address that is
            // not mapped gives ENOMEM, a page past the file's end EFAULT — neither touches memory.
            WarmCall::PopulateWrite { address, length, release_address, release_length } => {
                if release_length > 0 {
                    // SAFETY: on a shared file mapping of this process MADV_DONTNEED only drops page
                    // table entries; the pages (dirty ones too) stay in the page cache and a later
                    // access faults them back. Its result is ignored: a failure leaves pages mapped.
                    unsafe { libc::madvise(release_address as *mut libc::c_void, release_length, libc::MADV_DONTNEED) };
                }
                (unsafe { libc::madvise(address as *mut libc::c_void, length, libc::MADV_POPULATE_WRITE) }) as i64
            }
            // SAFETY: integers only; it starts writeback of pages already dirty, writes no byte.
            WarmCall::WriteBehind { fd, offset, length } => (unsafe { libc::sync_file_range(fd, offset, length, libc::SYNC_FILE_RANGE_WRITE) }) as i64,
            WarmCall::DropCached { fd, offset, length } => return drop_cached(fd, offset, length),
        };
        if r == 0 { 0 } else { last_errno() }
    }
}

fn last_errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
}

/// Waits for the range's writeback (starting it for pages still dirty), then drops its pages from
/// the page cache: 0 or the errno of the failed call. Only clean pages are dropped (the kernel
/// skips dirty, locked and mapped ones), so no byte is lost; a later read comes from the disk.
fn drop_cached(fd: i32, offset: i64, length: i64) -> i32 {
    let wait_write = libc::SYNC_FILE_RANGE_WAIT_BEFORE | libc::SYNC_FILE_RANGE_WRITE | libc::SYNC_FILE_RANGE_WAIT_AFTER;
    // SAFETY: integers only; it writes back pages already dirty and waits, writes no byte itself.
    if unsafe { libc::sync_file_range(fd, offset, length, wait_write) } != 0 {
        return last_errno();
    }
    // SAFETY: integers only. posix_fadvise returns the error number instead of setting errno.
    unsafe { libc::posix_fadvise(fd, offset, length, libc::POSIX_FADV_DONTNEED) }
}

type Settle = Box<dyn FnOnce(Env) -> Result<i32>>;

/// One call and the promise it settles.
struct BehindJob {
    call: WarmCall,
    done: JsDeferred<i32, Settle>,
}

/// How far below the process's own priority the write-behind thread runs, in nice steps: at 10
/// a thread gets about a tenth of the share of one at the process's priority, and the event loop,
/// woken while it runs, goes first.
const BEHIND_NICE_STEPS: libc::c_int = 10;

/// The write-behind thread's queue (one thread: one call per file at a time, a few a second per
/// busy file), started by the first call.
static BEHIND_QUEUE: OnceLock<Mutex<Sender<BehindJob>>> = OnceLock::new();

fn behind_queue() -> Result<&'static Mutex<Sender<BehindJob>>> {
    if let Some(q) = BEHIND_QUEUE.get() {
        return Ok(q);
    }
    let (tx, rx) = channel::<BehindJob>();
    thread::Builder::new()
        .name("bunka-behind".to_string())
        .spawn(move || behind_thread(rx))
        .map_err(|e| Error::new(Status::GenericFailure, format!("write-behind thread: {e}")))?;
    // a racing first call may have set it meanwhile: its thread serves, this one exits when `tx` drops
    Ok(BEHIND_QUEUE.get_or_init(|| Mutex::new(tx)))
}

fn behind_thread(rx: Receiver<BehindJob>) {
    // SAFETY: integers only. With PRIO_PROCESS a thread id names this one thread (Linux); a new
    // thread starts at its creator's nice value, the JS thread's. getpriority's -1 is also a valid
    // nice value, so errno tells a failure; any failure leaves the thread where it is, which is
    // only slower.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        *libc::__errno_location() = 0;
        let nice = libc::getpriority(libc::PRIO_PROCESS, tid);
        if *libc::__errno_location() == 0 {
            libc::setpriority(libc::PRIO_PROCESS, tid, (nice + BEHIND_NICE_STEPS).min(19));
        }
    }
    while let Ok(job) = rx.recv() {
        let out = job.call.run();
        job.done.resolve(Box::new(move |_env| Ok(out)));
    }
}

/// Queues `call` for the low-priority thread; the promise resolves with its result.
fn submit(env: &Env, call: WarmCall) -> Result<Object<'_>> {
    let (done, promise) = env.create_deferred::<i32, Settle>()?;
    let queue = behind_queue()?;
    let sent = queue.lock().map_err(|_| Error::new(Status::GenericFailure, "write-behind queue poisoned".to_string()))?.send(BehindJob { call, done });
    if let Err(unsent) = sent {
        unsent.0.done.reject(Error::new(Status::GenericFailure, "write-behind thread gone".to_string()));
    }
    Ok(promise)
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
/// page could not be made writable, e.g. no disk block left to reserve). With a release range
/// (page-aligned, in a shared file mapping of this process), its pages are unmapped first
/// (MADV_DONTNEED: they stay in the page cache), so the event loop does not make that call.
#[napi]
pub fn populate_write_async(address: f64, length: f64, release_address: Option<f64>, release_length: Option<f64>) -> Result<AsyncTask<WarmCall>> {
    let (address, length) = mapped_range("populate", address, length)?;
    let (release_address, release_length) = match (release_address, release_length) {
        (Some(a), Some(l)) if l > 0.0 => mapped_range("populate's release", a, l)?,
        _ => (0, 0),
    };
    Ok(AsyncTask::new(WarmCall::PopulateWrite { address, length, release_address, release_length }))
}

/// A page-aligned range of this process's address space, or InvalidArg naming `what`.
fn mapped_range(what: &str, address: f64, length: f64) -> Result<(usize, usize)> {
    let page = 4096.0;
    if !(address > 0.0) || !(length >= 0.0) || address % page != 0.0 || address >= (1u64 << 56) as f64 || length > (1u64 << 40) as f64 {
        return Err(Error::new(Status::InvalidArg, format!("{what}: bad address or length")));
    }
    Ok((address as usize, length as usize))
}

/// Resolves with 0 once the kernel has started writing back the dirty pages of `[offset, offset +
/// length)` of `fd` (it does not wait for the writes to finish), or with the errno of the failure.
#[napi]
pub fn write_behind_async(env: &Env, fd: i32, offset: f64, length: f64) -> Result<Object<'_>> {
    let (offset, length) = file_range("write-behind", fd, offset, length)?;
    submit(env, WarmCall::WriteBehind { fd, offset, length })
}

/// `offset` and `length` as the kernel's 64-bit file offsets, or InvalidArg naming `what`.
fn file_range(what: &str, fd: i32, offset: f64, length: f64) -> Result<(i64, i64)> {
    if fd < 0 || !(offset >= 0.0) || !(length >= 0.0) || offset > i64::MAX as f64 || length > i64::MAX as f64 {
        return Err(Error::new(Status::InvalidArg, format!("{what}: bad descriptor, offset or length")));
    }
    Ok((offset as i64, length as i64))
}

/// Resolves with 0 once `[offset, offset + length)` of `fd` is written back (waiting for its
/// writeback) and its clean pages are dropped from the page cache, or with the errno of the
/// failure. Runs on the write-behind thread, after the calls queued before it.
#[napi]
pub fn drop_cached_async(env: &Env, fd: i32, offset: f64, length: f64) -> Result<Object<'_>> {
    let (offset, length) = file_range("drop-cached", fd, offset, length)?;
    submit(env, WarmCall::DropCached { fd, offset, length })
}
