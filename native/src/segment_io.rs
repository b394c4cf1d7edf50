//! Segment I/O off the JS thread.
//!
//! One `IoEngine` owns one native worker thread. The JS thread only queues work (a copy of the
//! bytes to write at a given position, a datasync request, an async read) and returns at once;
//! the worker drains everything queued, and per file builds one *chain*: every queued write in
//! order (contiguous writes merged into one `writev`), then one `fdatasync` when any sync was
//! requested. So one fdatasync covers every append queued before it (group commit), and one
//! completion notification to JS covers every file whose chain finished in that cycle.
//!
//! Backends:
//! - `io_uring`: a chain is a run of SQEs linked with `IOSQE_IO_LINK` (writev → … → fsync with
//!   `IORING_FSYNC_DATASYNC`), so the kernel starts the fsync only after the writes completed.
//!   Chains of different files run concurrently. The worker waits in `io_uring_enter`; an eventfd
//!   read is kept armed in the ring so the JS thread can wake it.
//! - `pwrite`: the fallback where `io_uring_setup` is refused (EPERM from seccomp or
//!   `kernel.io_uring_disabled`, ENOSYS on old kernels). Same queue and same chains, executed with
//!   `pwritev` + `fdatasync` on the worker, one file after another; it blocks on the eventfd when
//!   idle.
//!
//! Per file there is at most one chain in flight; work queued meanwhile waits for the next chain.
//! Writes are lazy: a chain starts only once a sync (or a `kick`, a flush without fsync) is
//! queued behind them, so the writes made during an fsync go out together with the next one.
//! A chain whose ring result is anything but complete success (error, short write, cancelled
//! link) is re-run synchronously with `pwritev`/`fdatasync` on the worker (writes are idempotent:
//! same bytes at the same positions), which yields the definite errno. A write error marks the
//! file failed (sticky): the partial write is cut off with `ftruncate`, every sync of that chain
//! and any later one fails, later writes are dropped, and the JS `write` call throws at once.
//!
//! Completions are `(token, status, errno)` triples collected in a list; the worker pokes JS
//! through one weak threadsafe function (at most one poke outstanding) and JS drains the list
//! with `takeCompletions()`. JS keeps the event loop referenced while it awaits something
//! (`refLoop`/`unrefLoop`).
//!
//! Reads: `read` is a plain positioned read on the calling (JS) thread, for small, usually
//! cached reads; `readAsync` runs on the worker (an `IORING_OP_READ`, or `pread`). Neither is
//! ordered with queued writes: the JS side only reads from the file what the worker has confirmed
//! written (`writtenEnd`) and serves newer bytes from its own copies.
//!
//! `truncate` and `close` wait (blocking the JS thread) until the file has nothing queued or in
//! flight, then run on the calling thread, so they can never overtake or undercut a queued write.

use std::collections::{HashMap, VecDeque};
use std::ffi::CString;
use std::os::raw::c_void;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;

use io_uring::{opcode, squeue, types, IoUring};
use napi::bindgen_prelude::{Buffer, Function, Uint8Array};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{sys, Env, Error, Result, Status};
use napi_derive::napi;

/// Completion status codes, the second element of each triple.
const ST_OK: i32 = 0;
const ST_WRITE_ERROR: i32 = 1;
const ST_SYNC_ERROR: i32 = 2;
const ST_READ_ERROR: i32 = 3;

/// Most SQEs one chain may use; the rest of a long queue goes into the file's next chain.
const MAX_CHAIN_SQES: usize = 32;
/// Most iovecs in one writev (Linux IOV_MAX).
const MAX_IOV: usize = 1024;
const RING_ENTRIES: u32 = 1024;
/// Keep this many SQEs free for the eventfd re-arm and read ops.
const RING_BUDGET: usize = 900;
const WAKE_TAG: u64 = u64::MAX;
/// Default of `bunka.log.syncfs.min.files` (see `Worker::syncfs_round`).
const DEFAULT_SYNCFS_MIN_FILES: u32 = 2;

type Notify = ThreadsafeFunction<(), (), (), Status, false, true>;

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
}

fn os_error(what: &str, e: i32) -> Error {
    let msg = std::io::Error::from_raw_os_error(e);
    // "ERRNO:<n>:" lets the TS wrapper build a Node-style error with a `code`.
    Error::new(Status::GenericFailure, format!("ERRNO:{e}:{what}: {msg}"))
}

struct FileEntry {
    id: u64,
    fd: i32,
    /// Device of the file (st_dev): syncfs rounds group files by filesystem.
    dev: u64,
    /// Ops queued or in flight for this file.
    pending: AtomicU32,
    /// 0, or the errno of a failed write (sticky).
    failed: AtomicI32,
    /// End of the data the worker has written (every byte below it is in the file).
    written_end: AtomicU64,
    closed: AtomicBool,
}

impl Drop for FileEntry {
    /// A file dropped without `close` (its JS object was collected): the last reference, so no
    /// queued op can still use the descriptor.
    fn drop(&mut self) {
        if !self.closed.swap(true, Ordering::SeqCst) {
            unsafe { libc::close(self.fd) };
        }
    }
}

/// The bytes of a queued write: a copy (`NativeFile.write`), or the caller's own Uint8Array
/// (`IoEngine.submit`), read in place by the worker. The JS side guarantees such an array is not
/// modified until the write's covering sync completed (the log never modifies appended bytes, and
/// a pooled request frame is held until then: src/net/frame-pool.ts); the napi reference inside
/// `Uint8Array` keeps it from being collected. Borrowed arrays are never dropped on the worker:
/// they go back to the JS thread (`Shared::garbage`), where deleting the reference is legal.
enum WriteData {
    Owned(Vec<u8>),
    Borrowed(Uint8Array),
}

impl WriteData {
    fn bytes(&self) -> &[u8] {
        match self {
            WriteData::Owned(v) => v,
            WriteData::Borrowed(a) => a.as_ref(),
        }
    }
}

enum OpKind {
    Write { pos: u64, data: WriteData },
    Sync { token: u32 },
    /// Completes `token` once the writes queued before it are written (in the kernel), without an
    /// fsync: the acknowledgement of a flush-interval log (an ack there means "survives a crash of
    /// this process", as with writes made on the JS thread).
    Barrier { token: u32 },
    /// Start the writes queued before it (no fsync): what a flush-interval write needs.
    Flush,
    Read { pos: u64, len: usize, token: u32 },
}

struct Op {
    file: Arc<FileEntry>,
    kind: OpKind,
}

#[derive(Default)]
struct Counters {
    writes: AtomicU64,
    write_bytes: AtomicU64,
    writev_calls: AtomicU64,
    sync_requests: AtomicU64,
    fdatasyncs: AtomicU64,
    chains: AtomicU64,
    cycles: AtomicU64,
    wakeups: AtomicU64,
    notifies: AtomicU64,
    slow_paths: AtomicU64,
    async_reads: AtomicU64,
    inline_syncs: AtomicU64,
    syncfs_calls: AtomicU64,
    syncfs_covered: AtomicU64,
    syncfs_micros: AtomicU64,
}

struct Shared {
    queue: Mutex<Vec<Op>>,
    sleeping: AtomicBool,
    efd: i32,
    done: Mutex<Vec<i32>>,
    reads: Mutex<HashMap<u32, Vec<u8>>>,
    /// Borrowed write buffers whose writes are done, to be released on the JS thread.
    garbage: Mutex<Vec<Uint8Array>>,
    notified: AtomicBool,
    notify: Notify,
    drain_lock: Mutex<()>,
    drain_cv: Condvar,
    counters: Counters,
    /// A cycle in which at least this many files each wait for a sync uses one syncfs(2) for all
    /// of them instead of one fdatasync each (0: never). See `Worker::syncfs_round`.
    syncfs_min_files: AtomicU32,
    /// Per device, the descriptor syncfs runs on: opened once (on the directory of the first file
    /// of that device) and never closed, so its writeback-error cursor starts before any of our
    /// writes and no error on that filesystem can go unreported.
    sb_fds: Mutex<HashMap<u64, i32>>,
    /// Every file opened, to mark them failed when a syncfs reports an error.
    registry: Mutex<Vec<std::sync::Weak<FileEntry>>>,
    /// Test hook (`BUNKA_SYNCFS_FORCE_ERRNO=<n>`, read at engine start): every syncfs fails with n.
    syncfs_force_errno: i32,
}

impl Shared {
    fn push(&self, op: Op, wake: bool) {
        op.file.pending.fetch_add(1, Ordering::SeqCst);
        self.queue.lock().unwrap().push(op);
        if wake {
            self.wake();
        }
    }

    /// Wakes the worker if it is (about to be) blocked. One eventfd write per sleep at most.
    fn wake(&self) {
        if self.sleeping.swap(false, Ordering::SeqCst) {
            self.counters.wakeups.fetch_add(1, Ordering::Relaxed);
            let one: u64 = 1;
            unsafe { libc::write(self.efd, &one as *const u64 as *const c_void, 8) };
        }
    }

    fn complete(&self, out: &mut Vec<i32>) {
        if out.is_empty() {
            return;
        }
        self.done.lock().unwrap().append(out);
        self.poke();
    }

    /// Hands the borrowed buffers of finished writes back for release on the JS thread (and makes
    /// sure JS comes to take them even when no completion is due, e.g. after a flush-only chain).
    fn recycle(&self, groups: &mut Vec<WriteGroup>) {
        let mut back: Vec<Uint8Array> = Vec::new();
        for g in groups.iter_mut() {
            g.iov.clear(); // no pointer into the buffers survives them
            for b in g.bufs.drain(..) {
                if let WriteData::Borrowed(a) = b {
                    back.push(a);
                }
            }
        }
        if back.is_empty() {
            return;
        }
        self.garbage.lock().unwrap().append(&mut back);
        self.poke();
    }

    fn poke(&self) {
        if !self.notified.swap(true, Ordering::SeqCst) {
            self.counters.notifies.fetch_add(1, Ordering::Relaxed);
            self.notify.call((), ThreadsafeFunctionCallMode::NonBlocking);
        }
    }

    /// One syncfs(2) on the filesystem of device `dev`. On failure every file of that device is
    /// marked failed: syncfs cannot say whose data was lost, and a later fdatasync of an affected
    /// file might report success for pages the kernel already dropped ("fsyncgate"), so the whole
    /// filesystem is treated as failed — as Kafka takes a log dir offline.
    fn syncfs(&self, dev: u64) -> std::result::Result<(), i32> {
        let fd = self.sb_fds.lock().unwrap().get(&dev).copied().unwrap_or(-1);
        if fd < 0 {
            return Err(libc::EBADF);
        }
        self.counters.syncfs_calls.fetch_add(1, Ordering::Relaxed);
        let started = std::time::Instant::now();
        let _timed = Timed(&self.counters.syncfs_micros, started);
        loop {
            let r = if self.syncfs_force_errno > 0 { -1 } else { unsafe { libc::syncfs(fd) } };
            if r == 0 {
                return Ok(());
            }
            let e = if self.syncfs_force_errno > 0 { self.syncfs_force_errno } else { errno() };
            if e == libc::EINTR {
                continue;
            }
            for f in self.registry.lock().unwrap().iter().filter_map(|w| w.upgrade()) {
                if f.dev == dev {
                    let _ = f.failed.compare_exchange(0, e, Ordering::SeqCst, Ordering::SeqCst);
                }
            }
            return Err(e);
        }
    }

    fn finish_ops(&self, file: &FileEntry, n: u32) {
        if n > 0 && file.pending.fetch_sub(n, Ordering::SeqCst) == n {
            let _g = self.drain_lock.lock().unwrap();
            self.drain_cv.notify_all();
        }
    }
}

/// Adds the time since `.1` to the counter `.0` (microseconds) when dropped.
struct Timed<'a>(&'a AtomicU64, std::time::Instant);

impl Drop for Timed<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(self.1.elapsed().as_micros() as u64, Ordering::Relaxed);
    }
}

/// One contiguous run of writes, written with one writev / pwritev.
struct WriteGroup {
    pos: u64,
    len: usize,
    bufs: Vec<WriteData>,
    iov: Vec<libc::iovec>,
}

impl WriteGroup {
    fn build_iov(&mut self) {
        self.iov = self
            .bufs
            .iter()
            .map(|b| {
                let b = b.bytes();
                libc::iovec { iov_base: b.as_ptr() as *mut c_void, iov_len: b.len() }
            })
            .collect();
    }
}

/// The writes and syncs of one file taken from its queue for one round.
struct Chain {
    file: Arc<FileEntry>,
    groups: Vec<WriteGroup>,
    syncs: Vec<u32>,
    /// Barrier tokens: done when the chain's writes are (no fsync of their own).
    barriers: Vec<u32>,
    ops: u32,
    /// Ring bookkeeping: SQEs not yet completed, and whether any result fell short.
    outstanding: usize,
    trouble: bool,
}

impl Chain {
    fn end(&self) -> Option<u64> {
        self.groups.last().map(|g| g.pos + g.len as u64)
    }
}

/// Takes the leading writes/syncs of `q` (at most `max_sqes` SQEs' worth) into a chain;
/// `markers` (queued Sync/Flush ops) is decreased by those taken.
fn take_chain(file: &Arc<FileEntry>, q: &mut VecDeque<OpKind>, max_sqes: usize, markers: &mut usize) -> Chain {
    let mut chain = Chain { file: file.clone(), groups: Vec::new(), syncs: Vec::new(), barriers: Vec::new(), ops: 0, outstanding: 0, trouble: false };
    while let Some(op) = q.front() {
        match op {
            OpKind::Write { pos, .. } => {
                let pos = *pos;
                let extend = matches!(chain.groups.last(), Some(g) if g.pos + g.len as u64 == pos && g.bufs.len() < MAX_IOV);
                if !extend && chain.groups.len() + 1 >= max_sqes {
                    break;
                }
                let Some(OpKind::Write { data, .. }) = q.pop_front() else { unreachable!() };
                if extend {
                    let g = chain.groups.last_mut().unwrap();
                    g.len += data.bytes().len();
                    g.bufs.push(data);
                } else {
                    chain.groups.push(WriteGroup { pos, len: data.bytes().len(), bufs: vec![data], iov: Vec::new() });
                }
                chain.ops += 1;
            }
            OpKind::Sync { token } => {
                chain.syncs.push(*token);
                chain.ops += 1;
                *markers -= 1;
                q.pop_front();
            }
            OpKind::Barrier { token } => {
                chain.barriers.push(*token);
                chain.ops += 1;
                *markers -= 1;
                q.pop_front();
            }
            OpKind::Flush => {
                chain.ops += 1;
                *markers -= 1;
                q.pop_front();
            }
            OpKind::Read { .. } => unreachable!("reads are not queued per file"),
        }
    }
    for g in &mut chain.groups {
        g.build_iov();
    }
    chain
}

/// pwritev of a whole group, looping over short writes. Err(errno, bytes written).
fn pwritev_all(fd: i32, g: &WriteGroup) -> std::result::Result<(), (i32, usize)> {
    let mut iov = g.iov.clone();
    let mut idx = 0usize;
    let mut done = 0usize;
    while done < g.len {
        let n = (iov.len() - idx).min(MAX_IOV);
        let r = unsafe { libc::pwritev(fd, iov[idx..].as_ptr(), n as i32, (g.pos + done as u64) as libc::off_t) };
        if r < 0 {
            let e = errno();
            if e == libc::EINTR {
                continue;
            }
            return Err((e, done));
        }
        if r == 0 {
            return Err((libc::EIO, done));
        }
        let mut left = r as usize;
        done += left;
        while left > 0 {
            let cur = &mut iov[idx];
            if left >= cur.iov_len {
                left -= cur.iov_len;
                idx += 1;
            } else {
                cur.iov_base = unsafe { (cur.iov_base as *mut u8).add(left) } as *mut c_void;
                cur.iov_len -= left;
                left = 0;
            }
        }
    }
    Ok(())
}

fn fdatasync_retry(fd: i32) -> std::result::Result<(), i32> {
    loop {
        if unsafe { libc::fdatasync(fd) } == 0 {
            return Ok(());
        }
        let e = errno();
        if e != libc::EINTR {
            return Err(e);
        }
    }
}

/// Runs a chain synchronously on the worker. Ok, or the status and errno of the failure.
fn run_chain_blocking(shared: &Shared, chain: &Chain) -> std::result::Result<(), (i32, i32)> {
    write_chain_blocking(shared, chain)?;
    if !chain.syncs.is_empty() {
        shared.counters.fdatasyncs.fetch_add(1, Ordering::Relaxed);
        fdatasync_retry(chain.file.fd).map_err(|e| (ST_SYNC_ERROR, e))?;
    }
    Ok(())
}

/// The writes of a chain, synchronously (no sync). Ok, or ST_WRITE_ERROR and the errno.
fn write_chain_blocking(shared: &Shared, chain: &Chain) -> std::result::Result<(), (i32, i32)> {
    let fd = chain.file.fd;
    for g in &chain.groups {
        shared.counters.writev_calls.fetch_add(1, Ordering::Relaxed);
        if let Err((e, written)) = pwritev_all(fd, g) {
            // Cut the file back to the end of the last whole buffer (one buffer = one append
            // = whole batches), so no torn batch stays behind. Best effort: recovery would also
            // drop a torn batch by its length/CRC.
            if written > 0 {
                let mut keep = 0usize;
                for b in &g.bufs {
                    let n = b.bytes().len();
                    if keep + n > written {
                        break;
                    }
                    keep += n;
                }
                unsafe { libc::ftruncate(fd, (g.pos + keep as u64) as libc::off_t) };
            }
            return Err((ST_WRITE_ERROR, e));
        }
    }
    Ok(())
}

/// Publishes a finished chain: written end, sync results, failure state, pending count.
fn finish_chain(shared: &Shared, mut chain: Chain, outcome: std::result::Result<(), (i32, i32)>, out: &mut Vec<i32>) {
    let end = chain.end();
    shared.recycle(&mut chain.groups);
    let file = &chain.file;
    match outcome {
        Ok(()) => {
            if let Some(end) = end {
                file.written_end.store(end, Ordering::SeqCst);
            }
            for t in chain.syncs.iter().chain(&chain.barriers) {
                out.extend_from_slice(&[*t as i32, ST_OK, 0]);
            }
        }
        Err((status, e)) => {
            if status == ST_WRITE_ERROR {
                let _ = file.failed.compare_exchange(0, e, Ordering::SeqCst, Ordering::SeqCst);
            }
            for t in chain.syncs.iter().chain(&chain.barriers) {
                out.extend_from_slice(&[*t as i32, status, e]);
            }
        }
    }
    shared.counters.chains.fetch_add(1, Ordering::Relaxed);
    shared.finish_ops(file, chain.ops);
}

/// Ops of a file that failed earlier: writes are dropped, syncs fail with the write's errno.
fn fail_chain(shared: &Shared, mut chain: Chain, e: i32, out: &mut Vec<i32>) {
    shared.recycle(&mut chain.groups);
    for t in chain.syncs.iter().chain(&chain.barriers) {
        out.extend_from_slice(&[*t as i32, ST_WRITE_ERROR, e]);
    }
    shared.finish_ops(&chain.file, chain.ops);
}

fn finish_read(shared: &Shared, file: &FileEntry, token: u32, mut buf: Vec<u8>, res: i64, out: &mut Vec<i32>) {
    if res < 0 {
        out.extend_from_slice(&[token as i32, ST_READ_ERROR, (-res) as i32]);
    } else {
        // SAFETY: the kernel filled the first `res` bytes (res <= capacity); the buffer was
        // allocated with that capacity and never read before.
        unsafe { buf.set_len((res as usize).min(buf.capacity())) };
        shared.reads.lock().unwrap().insert(token, buf);
        out.extend_from_slice(&[token as i32, ST_OK, 0]);
    }
    shared.finish_ops(file, 1);
}

fn blocking_pread(fd: i32, buf: &mut [u8], pos: u64) -> std::result::Result<usize, i32> {
    let mut done = 0usize;
    while done < buf.len() {
        let r = unsafe {
            libc::pread(fd, buf[done..].as_mut_ptr() as *mut c_void, buf.len() - done, (pos + done as u64) as libc::off_t)
        };
        if r < 0 {
            let e = errno();
            if e == libc::EINTR {
                continue;
            }
            return Err(e);
        }
        if r == 0 {
            break;
        }
        done += r as usize;
    }
    Ok(done)
}

/// The next chain of `fq` to run blocking (None once nothing is queued). Chains of a file that has
/// failed are failed here instead (their syncs get the write's errno), so a caller that marks the
/// file failed after a write error never writes a later chain of it.
fn next_live_chain(shared: &Shared, fq: &mut FileQueue, out: &mut Vec<i32>) -> Option<Chain> {
    while fq.markers > 0 {
        let chain = take_chain(&fq.file, &mut fq.ops, MAX_CHAIN_SQES * 32, &mut fq.markers);
        let failed = chain.file.failed.load(Ordering::SeqCst);
        if failed == 0 {
            return Some(chain);
        }
        fail_chain(shared, chain, failed, out);
    }
    None
}

/// Per-file queues kept by the worker.
struct FileQueue {
    file: Arc<FileEntry>,
    ops: VecDeque<OpKind>,
    /// Queued Sync/Flush ops. Writes alone are lazy: a chain starts only when a marker is queued
    /// (the group-commit sync that follows in durable mode, or a Flush from JS's kick), so writes
    /// made while a file's fsync is in flight wait for the next sync instead of going out alone
    /// and delaying it.
    markers: usize,
    busy: bool,
}

struct Worker {
    shared: Arc<Shared>,
    files: HashMap<u64, FileQueue>,
    reads: Vec<(Arc<FileEntry>, u64, usize, u32)>,
}

impl Worker {
    /// Moves newly queued ops into the per-file queues (reads go to their own list).
    fn intake(&mut self, ops: Vec<Op>) {
        for op in ops {
            match op.kind {
                OpKind::Read { pos, len, token } => self.reads.push((op.file, pos, len, token)),
                kind => {
                    let fq = self.files.entry(op.file.id).or_insert_with(|| FileQueue {
                        file: op.file.clone(),
                        ops: VecDeque::new(),
                        markers: 0,
                        busy: false,
                    });
                    if !matches!(kind, OpKind::Write { .. }) {
                        fq.markers += 1;
                    }
                    fq.ops.push_back(kind);
                }
            }
        }
    }

    /// Group commit across files. When at least `syncfs_min_files` idle files each have a sync
    /// queued, their queued writes are written here (pwritev, the page cache: microseconds each)
    /// and ONE syncfs(2) per filesystem makes all of them durable, instead of one fdatasync per
    /// file: on ext4 each fdatasync of a grown file is its own journal commit and cache flush,
    /// measured at 8 ms for 50 files one after another and 2.5 ms in parallel, against 0.5 ms for
    /// one syncfs after the same writes (bench/RESULTS.md "syncfs group commit"). syncfs writes
    /// back every dirty page of the filesystem, ours or not, so a data dir shared with heavy
    /// unsynced writers makes it slower: `bunka.log.syncfs.min.files=0` turns it off.
    fn syncfs_round(&mut self, out: &mut Vec<i32>) {
        let min = self.shared.syncfs_min_files.load(Ordering::Relaxed) as usize;
        if min == 0 {
            return;
        }
        let sb_fds = self.shared.sb_fds.lock().unwrap().clone();
        let ids: Vec<u64> = self
            .files
            .iter()
            .filter(|(_, f)| !f.busy && f.markers > 0 && sb_fds.contains_key(&f.file.dev) && f.ops.iter().any(|o| matches!(o, OpKind::Sync { .. })))
            .map(|(k, _)| *k)
            .collect();
        if ids.len() < min {
            return;
        }
        let mut written: Vec<(Chain, std::result::Result<(), (i32, i32)>)> = Vec::with_capacity(ids.len());
        for id in ids {
            let fq = self.files.get_mut(&id).unwrap();
            while let Some(chain) = next_live_chain(&self.shared, fq, out) {
                let outcome = write_chain_blocking(&self.shared, &chain);
                if let Err((ST_WRITE_ERROR, e)) = outcome {
                    // Failed now, not only when the round finishes: a later chain of this file must
                    // not be written past the cut-off end (it would be acknowledged behind a hole).
                    let _ = chain.file.failed.compare_exchange(0, e, Ordering::SeqCst, Ordering::SeqCst);
                }
                written.push((chain, outcome));
            }
        }
        // One syncfs per filesystem that has a successfully written chain waiting for a sync.
        let mut synced: HashMap<u64, std::result::Result<(), i32>> = HashMap::new();
        for (chain, outcome) in &written {
            if outcome.is_ok() && !chain.syncs.is_empty() && !synced.contains_key(&chain.file.dev) {
                synced.insert(chain.file.dev, self.shared.syncfs(chain.file.dev));
            }
        }
        for (chain, outcome) in written {
            let outcome = match outcome {
                Ok(()) if !chain.syncs.is_empty() => {
                    self.shared.counters.syncfs_covered.fetch_add(1, Ordering::Relaxed);
                    synced[&chain.file.dev].map_err(|e| (ST_SYNC_ERROR, e))
                }
                other => other,
            };
            finish_chain(&self.shared, chain, outcome, out);
        }
    }

    fn take_queue(&self) -> Vec<Op> {
        std::mem::take(&mut *self.shared.queue.lock().unwrap())
    }

    /// Blocks until something is queued (pwrite mode's idle wait).
    fn sleep_on_eventfd(&self) {
        let s = &self.shared;
        s.sleeping.store(true, Ordering::SeqCst);
        if !s.queue.lock().unwrap().is_empty() {
            s.sleeping.store(false, Ordering::SeqCst);
            return;
        }
        let mut v: u64 = 0;
        loop {
            let r = unsafe { libc::read(s.efd, &mut v as *mut u64 as *mut c_void, 8) };
            if r >= 0 || errno() != libc::EINTR {
                break;
            }
        }
        s.sleeping.store(false, Ordering::SeqCst);
    }

    fn run_pwrite(mut self) {
        let mut out: Vec<i32> = Vec::new();
        loop {
            let ops = self.take_queue();
            if ops.is_empty() && self.files.values().all(|f| f.markers == 0) && self.reads.is_empty() {
                self.sleep_on_eventfd();
                continue;
            }
            self.shared.counters.cycles.fetch_add(1, Ordering::Relaxed);
            self.intake(ops);
            for (file, pos, len, token) in std::mem::take(&mut self.reads) {
                self.shared.counters.async_reads.fetch_add(1, Ordering::Relaxed);
                let mut buf: Vec<u8> = Vec::with_capacity(len);
                // SAFETY: pread writes into the spare capacity; only the bytes it reports are
                // kept (finish_read sets the length).
                let spare = unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr(), len) };
                let res = match blocking_pread(file.fd, spare, pos) {
                    Ok(n) => n as i64,
                    Err(e) => -(e as i64),
                };
                finish_read(&self.shared, &file, token, buf, res, &mut out);
            }
            self.syncfs_round(&mut out);
            let ids: Vec<u64> = self.files.iter().filter(|(_, f)| f.markers > 0).map(|(k, _)| *k).collect();
            for id in ids {
                let fq = self.files.get_mut(&id).unwrap();
                while let Some(chain) = next_live_chain(&self.shared, fq, &mut out) {
                    let outcome = run_chain_blocking(&self.shared, &chain);
                    finish_chain(&self.shared, chain, outcome, &mut out);
                }
            }
            self.files.retain(|_, f| !f.ops.is_empty() || !f.file.closed.load(Ordering::Relaxed));
            self.shared.complete(&mut out);
        }
    }

    fn run_uring(mut self, mut ring: IoUring) {
        let mut out: Vec<i32> = Vec::new();
        let mut chains: Vec<Option<Chain>> = Vec::new();
        let mut free_slots: Vec<usize> = Vec::new();
        let mut read_slots: HashMap<u64, (Arc<FileEntry>, u32, Vec<u8>)> = HashMap::new();
        let mut next_read_tag: u64 = 1 << 62;
        let mut inflight: usize = 0;
        let mut wake_buf: Box<u64> = Box::new(0);
        let mut wake_armed = false;
        let no_iowait = ring.params().is_feature_no_iowait();

        loop {
            if !wake_armed {
                let e = opcode::Read::new(types::Fd(self.shared.efd), &mut *wake_buf as *mut u64 as *mut u8, 8)
                    .build()
                    .user_data(WAKE_TAG);
                unsafe { ring.submission().push(&e).expect("ring has room for the wake read") };
                wake_armed = true;
            }
            let ops = self.take_queue();
            if !ops.is_empty() {
                self.shared.counters.cycles.fetch_add(1, Ordering::Relaxed);
            }
            self.intake(ops);

            // Async reads: independent single SQEs.
            while inflight < RING_BUDGET {
                let Some((file, pos, len, token)) = self.reads.pop() else { break };
                self.shared.counters.async_reads.fetch_add(1, Ordering::Relaxed);
                let mut buf: Vec<u8> = Vec::with_capacity(len);
                let tag = next_read_tag;
                next_read_tag += 1;
                let e = opcode::Read::new(types::Fd(file.fd), buf.as_mut_ptr(), len as u32).offset(pos).build().user_data(tag);
                read_slots.insert(tag, (file, token, buf));
                unsafe { ring.submission().push(&e).expect("budgeted") };
                inflight += 1;
            }

            self.syncfs_round(&mut out);
            // One chain per idle file with work.
            for fq in self.files.values_mut() {
                if fq.busy || fq.markers == 0 || inflight + MAX_CHAIN_SQES > RING_BUDGET {
                    continue;
                }
                let mut chain = take_chain(&fq.file, &mut fq.ops, MAX_CHAIN_SQES, &mut fq.markers);
                let failed = chain.file.failed.load(Ordering::SeqCst);
                if failed != 0 {
                    fail_chain(&self.shared, chain, failed, &mut out);
                    continue;
                }
                let slot = free_slots.pop().unwrap_or_else(|| {
                    chains.push(None);
                    chains.len() - 1
                });
                let mut sqes: Vec<squeue::Entry> = Vec::with_capacity(chain.groups.len() + 1);
                for (i, g) in chain.groups.iter().enumerate() {
                    sqes.push(
                        opcode::Writev::new(types::Fd(chain.file.fd), g.iov.as_ptr(), g.iov.len() as u32)
                            .offset(g.pos)
                            .build()
                            .user_data(((slot as u64) << 32) | i as u64),
                    );
                }
                if !chain.syncs.is_empty() {
                    sqes.push(
                        opcode::Fsync::new(types::Fd(chain.file.fd))
                            .flags(types::FsyncFlags::DATASYNC)
                            .build()
                            .user_data(((slot as u64) << 32) | 0xffff_ffff),
                    );
                }
                if sqes.is_empty() {
                    // Nothing to submit (a Flush with no write before it).
                    finish_chain(&self.shared, chain, Ok(()), &mut out);
                    free_slots.push(slot);
                    continue;
                }
                let last = sqes.len() - 1;
                for (i, sqe) in sqes.into_iter().enumerate() {
                    let sqe = if i < last { sqe.flags(squeue::Flags::IO_LINK) } else { sqe };
                    unsafe { ring.submission().push(&sqe).expect("budgeted") };
                    chain.outstanding += 1;
                }
                self.shared.counters.writev_calls.fetch_add(chain.groups.len() as u64, Ordering::Relaxed);
                if !chain.syncs.is_empty() {
                    self.shared.counters.fdatasyncs.fetch_add(1, Ordering::Relaxed);
                }
                inflight += chain.outstanding;
                fq.busy = true;
                chains[slot] = Some(chain);
            }
            self.shared.complete(&mut out);

            // Submit and wait for at least one completion (the armed eventfd read counts), unless
            // work arrived meanwhile.
            let s = &self.shared;
            s.sleeping.store(true, Ordering::SeqCst);
            let want = if s.queue.lock().unwrap().is_empty() { 1 } else { 0 };
            if want == 0 {
                s.sleeping.store(false, Ordering::SeqCst);
            }
            // Nothing but the wake read in flight: the worker is idle, waiting for JS. Without
            // NO_IOWAIT the kernel counts that wait as iowait, so an idle broker showed one CPU's
            // worth of iowait (50 % on 2 cores) in vmstat/top, which reads as a stuck disk.
            let idle_wait = want > 0 && inflight == 0 && no_iowait;
            loop {
                let r = if idle_wait { enter_idle_wait(&mut ring) } else { ring.submit_and_wait(want) };
                match r {
                    Ok(_) => break,
                    Err(e) if matches!(e.raw_os_error(), Some(libc::EINTR) | Some(libc::EAGAIN) | Some(libc::EBUSY)) => {
                        if want == 0 {
                            break;
                        }
                    }
                    Err(e) => panic!("io_uring_enter failed: {e}"),
                }
            }
            s.sleeping.store(false, Ordering::SeqCst);

            let cqes: Vec<(u64, i32)> = ring.completion().map(|c| (c.user_data(), c.result())).collect();
            for (tag, res) in cqes {
                if tag == WAKE_TAG {
                    wake_armed = false;
                    continue;
                }
                if tag >= 1 << 62 {
                    if let Some((file, token, buf)) = read_slots.remove(&tag) {
                        inflight -= 1;
                        finish_read(&self.shared, &file, token, buf, res as i64, &mut out);
                    }
                    continue;
                }
                inflight -= 1;
                let slot = (tag >> 32) as usize;
                let idx = (tag & 0xffff_ffff) as usize;
                let Some(chain) = chains[slot].as_mut() else { continue };
                if idx == 0xffff_ffff {
                    if res < 0 {
                        chain.trouble = true;
                    }
                } else if res < 0 || res as usize != chain.groups[idx].len {
                    chain.trouble = true;
                }
                chain.outstanding -= 1;
                if chain.outstanding == 0 {
                    let chain = chains[slot].take().unwrap();
                    free_slots.push(slot);
                    let outcome = if chain.trouble {
                        // Ring result not a clean success: redo it blocking for the real outcome.
                        self.shared.counters.slow_paths.fetch_add(1, Ordering::Relaxed);
                        if !chain.syncs.is_empty() {
                            // The fsync SQE was counted already; the blocking path counts its own.
                            self.shared.counters.fdatasyncs.fetch_sub(1, Ordering::Relaxed);
                        }
                        run_chain_blocking(&self.shared, &chain)
                    } else {
                        Ok(())
                    };
                    if let Some(fq) = self.files.get_mut(&chain.file.id) {
                        fq.busy = false;
                    }
                    finish_chain(&self.shared, chain, outcome, &mut out);
                }
            }
            self.files.retain(|_, f| f.busy || !f.ops.is_empty() || !f.file.closed.load(Ordering::Relaxed));
            self.shared.complete(&mut out);
        }
    }
}

/// io_uring_enter flags (linux/io_uring.h); the crate keeps its constants private.
const IORING_ENTER_GETEVENTS: u32 = 1;
/// Linux 6.15+ (IORING_FEAT_NO_IOWAIT): the wait is not accounted as iowait.
const IORING_ENTER_NO_IOWAIT: u32 = 1 << 7;

/// Submits what is queued and waits for one completion without being counted as iowait.
fn enter_idle_wait(ring: &mut IoUring) -> std::io::Result<usize> {
    let to_submit = ring.submission().len() as u32;
    // SAFETY: no extended argument is passed (arg None, size of sigset_t ignored without EXT_ARG).
    unsafe {
        ring.submitter()
            .enter::<libc::sigset_t>(to_submit, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_NO_IOWAIT, None)
    }
}

/// Why io_uring cannot be used here, or None when a ring can be set up. A test hook
/// (`BUNKA_IO_URING_FORCE_ERRNO=<n>`) makes it report errno n, to exercise the fallback.
fn probe_uring() -> std::result::Result<IoUring, i32> {
    if let Ok(v) = std::env::var("BUNKA_IO_URING_FORCE_ERRNO") {
        if let Ok(n) = v.trim().parse::<i32>() {
            if n > 0 {
                return Err(n);
            }
        }
    }
    IoUring::new(RING_ENTRIES).map_err(|e| e.raw_os_error().unwrap_or(libc::ENOSYS))
}

/// Whether this process may use io_uring (sets up and drops a ring): "" or the refusal.
#[napi(js_name = "ioUringProbe")]
pub fn io_uring_probe() -> String {
    match probe_uring() {
        Ok(_) => String::new(),
        Err(e) => format!("io_uring_setup: {} (errno {e})", std::io::Error::from_raw_os_error(e)),
    }
}

#[napi(object)]
pub struct IoEngineStats {
    pub writes: f64,
    pub write_bytes: f64,
    pub writev_calls: f64,
    pub sync_requests: f64,
    pub fdatasyncs: f64,
    pub chains: f64,
    pub cycles: f64,
    pub wakeups: f64,
    pub notifies: f64,
    pub slow_paths: f64,
    pub async_reads: f64,
    /// Syncs run inline on the JS thread by `submit` (the low-load path).
    pub inline_syncs: f64,
    /// syncfs(2) calls of syncfs rounds, and the file chains (with syncs) they covered.
    pub syncfs_calls: f64,
    pub syncfs_covered: f64,
    /// Time spent in syncfs calls.
    pub syncfs_micros: f64,
}

/// The worker thread and its queue. One per process is enough (see src/log/native-segment-file.ts).
#[napi]
pub struct IoEngine {
    shared: Arc<Shared>,
    ring_flags: String,
    backend: String,
    fallback_reason: Option<String>,
    next_file: AtomicU64,
    referred: AtomicBool,
}

#[napi]
impl IoEngine {
    /// `mode`: "auto" (io_uring, else pwrite), "io_uring" (fail when refused), "pwrite".
    /// `onReady` is called (no arguments) when completions can be taken.
    #[napi(constructor)]
    pub fn new(mode: String, on_ready: Function<(), ()>) -> Result<Self> {
        let notify: Notify = on_ready.build_threadsafe_function().callee_handled::<false>().weak::<true>().build()?;
        let (ring, backend, reason) = match mode.as_str() {
            "pwrite" => (None, "pwrite", None),
            "io_uring" | "auto" => match probe_uring() {
                Ok(r) => (Some(r), "io_uring", None),
                Err(e) => {
                    let why = format!("io_uring_setup: {} (errno {e})", std::io::Error::from_raw_os_error(e));
                    if mode == "io_uring" {
                        return Err(os_error(&format!("io_uring refused ({why})"), e));
                    }
                    (None, "pwrite-fallback", Some(why))
                }
            },
            other => return Err(Error::new(Status::InvalidArg, format!("unknown io mode {other:?}"))),
        };
        let efd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
        if efd < 0 {
            return Err(os_error("eventfd", errno()));
        }
        let shared = Arc::new(Shared {
            queue: Mutex::new(Vec::new()),
            sleeping: AtomicBool::new(false),
            efd,
            done: Mutex::new(Vec::new()),
            reads: Mutex::new(HashMap::new()),
            garbage: Mutex::new(Vec::new()),
            notified: AtomicBool::new(false),
            notify,
            drain_lock: Mutex::new(()),
            drain_cv: Condvar::new(),
            counters: Counters::default(),
            syncfs_min_files: AtomicU32::new(DEFAULT_SYNCFS_MIN_FILES),
            sb_fds: Mutex::new(HashMap::new()),
            registry: Mutex::new(Vec::new()),
            syncfs_force_errno: std::env::var("BUNKA_SYNCFS_FORCE_ERRNO").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(0),
        });
        let worker = Worker { shared: shared.clone(), files: HashMap::new(), reads: Vec::new() };
        // The worker builds its own ring: with IORING_SETUP_SINGLE_ISSUER the creating thread is
        // the only one allowed to submit. DEFER_TASKRUN runs completion work only when the worker
        // waits (no interrupts of it meanwhile). Kernels without these flags get a plain ring.
        let use_uring = ring.is_some();
        drop(ring);
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        thread::Builder::new()
            .name(format!("bunka-io-{backend}"))
            .spawn(move || {
                if !use_uring {
                    let _ = tx.send(String::new());
                    return worker.run_pwrite();
                }
                let tuned = IoUring::builder()
                    .setup_single_issuer()
                    .setup_defer_taskrun()
                    .setup_coop_taskrun()
                    .build(RING_ENTRIES);
                let (ring, flags) = match tuned {
                    Ok(r) => (Ok(r), "single_issuer+defer_taskrun"),
                    Err(_) => (IoUring::new(RING_ENTRIES), "plain"),
                };
                match ring {
                    Ok(r) => {
                        let idle = if r.params().is_feature_no_iowait() { "+no_iowait_idle" } else { "" };
                        let _ = tx.send(format!("{flags}{idle}"));
                        worker.run_uring(r)
                    }
                    Err(e) => {
                        let _ = tx.send(format!("ERR {e}"));
                    }
                }
            })
            .map_err(|e| Error::new(Status::GenericFailure, format!("cannot start the io thread: {e}")))?;
        let ring_flags = rx.recv().unwrap_or_else(|_| "ERR worker died".to_string());
        if let Some(err) = ring_flags.strip_prefix("ERR ") {
            return Err(Error::new(Status::GenericFailure, format!("io_uring worker: {err}")));
        }
        Ok(IoEngine {
            shared,
            ring_flags,
            backend: backend.to_string(),
            fallback_reason: reason,
            next_file: AtomicU64::new(1),
            referred: AtomicBool::new(false),
        })
    }

    /// "io_uring" or "pwrite" (asked for) or "pwrite-fallback" (io_uring refused under "auto").
    #[napi(getter)]
    pub fn backend(&self) -> String {
        self.backend.clone()
    }

    /// Ring setup flags in use ("single_issuer+defer_taskrun" or "plain", plus "+no_iowait_idle"
    /// when idle waits are kept out of iowait (Linux 6.15+); "" without a ring).
    #[napi(getter)]
    pub fn ring_flags(&self) -> String {
        self.ring_flags.clone()
    }

    /// Why io_uring was not used (auto mode), else null.
    #[napi(getter)]
    pub fn fallback_reason(&self) -> Option<String> {
        self.fallback_reason.clone()
    }

    /// Opens (creating when missing) a file for reading and writing.
    #[napi]
    pub fn open(&self, path: String) -> Result<NativeFile> {
        let c = CString::new(path.clone()).map_err(|_| Error::new(Status::InvalidArg, "path contains NUL"))?;
        let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDWR | libc::O_CREAT | libc::O_CLOEXEC, 0o644) };
        if fd < 0 {
            return Err(os_error(&format!("open '{path}'"), errno()));
        }
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::fstat(fd, &mut st) } != 0 {
            let e = errno();
            unsafe { libc::close(fd) };
            return Err(os_error(&format!("fstat '{path}'"), e));
        }
        let size = st.st_size as u64;
        let dev = st.st_dev as u64;
        self.ensure_sb_fd(dev, &path);
        let entry = Arc::new(FileEntry {
            id: self.next_file.fetch_add(1, Ordering::Relaxed),
            fd,
            dev,
            pending: AtomicU32::new(0),
            failed: AtomicI32::new(0),
            written_end: AtomicU64::new(size),
            closed: AtomicBool::new(false),
        });
        {
            let mut reg = self.shared.registry.lock().unwrap();
            if reg.len() >= 64 && reg.len().is_power_of_two() {
                reg.retain(|w| w.strong_count() > 0);
            }
            reg.push(Arc::downgrade(&entry));
        }
        Ok(NativeFile { shared: self.shared.clone(), file: entry, size: size as f64 })
    }

    /// The syncfs descriptor of device `dev`, opened on the directory holding `path` when this is
    /// the first file of that filesystem (before any write of ours to it). Files of a device
    /// without one (the open failed) keep one fdatasync each.
    fn ensure_sb_fd(&self, dev: u64, path: &str) {
        let mut fds = self.shared.sb_fds.lock().unwrap();
        if fds.contains_key(&dev) {
            return;
        }
        let dir = std::path::Path::new(path).parent().map(|p| p.to_string_lossy().into_owned()).unwrap_or_else(|| ".".into());
        let dir = if dir.is_empty() { ".".to_string() } else { dir };
        let fd = match CString::new(dir) {
            Ok(c) => unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC) },
            Err(_) => -1,
        };
        if fd >= 0 {
            fds.insert(dev, fd);
        }
    }

    /// Sets `bunka.log.syncfs.min.files`: a worker cycle with at least this many files waiting for
    /// a sync covers them with one syncfs(2) per filesystem; 0 = always one fdatasync per file.
    #[napi]
    pub fn set_syncfs_min_files(&self, n: u32) {
        self.shared.syncfs_min_files.store(n, Ordering::Relaxed);
    }

    /// Completed requests since the last call, flattened: [token, status, errno, ...].
    /// status: 0 ok, 1 write error, 2 fdatasync error, 3 read error.
    #[napi]
    pub fn take_completions(&self) -> Vec<i32> {
        self.shared.notified.store(false, Ordering::SeqCst);
        // Borrowed write buffers of finished writes: their napi references are deleted here, on
        // the JS thread.
        drop(std::mem::take(&mut *self.shared.garbage.lock().unwrap()));
        std::mem::take(&mut *self.shared.done.lock().unwrap())
    }

    /// The bytes of a completed readAsync (once).
    #[napi]
    pub fn take_read(&self, token: u32) -> Option<Buffer> {
        self.shared.reads.lock().unwrap().remove(&token).map(Buffer::from)
    }

    /// Keeps the event loop alive while JS awaits completions; `unrefLoop` lets it exit again.
    #[napi]
    pub fn ref_loop(&self, env: Env) -> Result<()> {
        if !self.referred.swap(true, Ordering::SeqCst) {
            let st = unsafe { sys::napi_ref_threadsafe_function(env.raw(), self.shared.notify.raw()) };
            if st != sys::Status::napi_ok {
                return Err(Error::new(Status::GenericFailure, "napi_ref_threadsafe_function failed"));
            }
        }
        Ok(())
    }

    #[napi]
    pub fn unref_loop(&self, env: Env) -> Result<()> {
        if self.referred.swap(false, Ordering::SeqCst) {
            let st = unsafe { sys::napi_unref_threadsafe_function(env.raw(), self.shared.notify.raw()) };
            if st != sys::Status::napi_ok {
                return Err(Error::new(Status::GenericFailure, "napi_unref_threadsafe_function failed"));
            }
        }
        Ok(())
    }

    /// Queues many files' ops with one queue lock and at most one wake-up: what the JS side
    /// collects during one event-loop turn (all partition appends and group-commit syncs of the
    /// produce requests handled in it), instead of one native call, lock and wake per op.
    /// Op `i` is on `files[i]`; `kinds[i]`: 0 = write `data[w]` (the next unused entry of `data`)
    /// at `positions[i]`, 1 = datasync with completion `tokens[i]`, 2 = flush (start the writes
    /// queued so far, no fsync). Writes to a failed or closed file are dropped (the JS side checks
    /// `failedErrno` before queueing; a write that failed meanwhile fails the covering sync), a sync
    /// of a closed file completes at once with EBADF.
    ///
    /// `inline_max_bytes` > 0 allows the inline path: when the batch is one file's writes (at most
    /// that many bytes) followed by its only sync, and nothing of that file is queued or in flight,
    /// the writes and the fdatasync run right here on the calling (JS) thread and the completions
    /// are returned ([token, status, errno, ...]) instead of being reported later. That is the low-
    /// load case (one producer, one partition): it saves the worker wake-up, the io-wq hop and the
    /// completion hop back to the event loop, at the price of blocking the loop for one fsync —
    /// which is why the JS side allows it only when it has nothing else in flight.
    #[napi]
    pub fn submit(
        &self,
        files: Vec<&NativeFile>,
        kinds: &[u8],
        positions: &[f64],
        tokens: &[u32],
        data: Vec<Uint8Array>,
        inline_max_bytes: f64,
    ) -> Result<Vec<i32>> {
        let n = kinds.len();
        if files.len() != n || positions.len() != n || tokens.len() != n {
            return Err(Error::new(Status::InvalidArg, "submit: files, kinds, positions and tokens differ in length"));
        }
        // Validate everything first: nothing may be counted as pending unless it is queued (a
        // pending count that never drops would make truncate/close wait forever).
        let mut writes = 0usize;
        for i in 0..n {
            match kinds[i] {
                0 => {
                    check_pos("write", positions[i])?;
                    writes += 1;
                }
                1 | 2 | 3 => {}
                k => return Err(Error::new(Status::InvalidArg, format!("submit: unknown op kind {k}"))),
            }
        }
        if data.len() != writes {
            return Err(Error::new(Status::InvalidArg, "submit: data buffers and writes differ in number"));
        }
        let c = &self.shared.counters;
        let mut ops: Vec<Op> = Vec::with_capacity(n);
        let mut refused: Vec<i32> = Vec::new();
        let mut wake = false;
        let mut data = data.into_iter();
        for i in 0..n {
            let file = &files[i].file;
            match kinds[i] {
                0 => {
                    let Some(bytes) = data.next() else {
                        return Err(Error::new(Status::InvalidArg, "submit: fewer data buffers than writes"));
                    };
                    let pos = check_pos("write", positions[i])?;
                    if bytes.is_empty() || file.closed.load(Ordering::SeqCst) || file.failed.load(Ordering::SeqCst) != 0 {
                        continue;
                    }
                    c.writes.fetch_add(1, Ordering::Relaxed);
                    c.write_bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                    file.pending.fetch_add(1, Ordering::SeqCst);
                    ops.push(Op { file: file.clone(), kind: OpKind::Write { pos, data: WriteData::Borrowed(bytes) } });
                }
                1 => {
                    if file.closed.load(Ordering::SeqCst) {
                        refused.extend_from_slice(&[tokens[i] as i32, ST_SYNC_ERROR, libc::EBADF]);
                        continue;
                    }
                    c.sync_requests.fetch_add(1, Ordering::Relaxed);
                    file.pending.fetch_add(1, Ordering::SeqCst);
                    ops.push(Op { file: file.clone(), kind: OpKind::Sync { token: tokens[i] } });
                    wake = true;
                }
                2 => {
                    if file.pending.load(Ordering::SeqCst) > 0 && !file.closed.load(Ordering::SeqCst) {
                        file.pending.fetch_add(1, Ordering::SeqCst);
                        ops.push(Op { file: file.clone(), kind: OpKind::Flush });
                        wake = true;
                    }
                }
                3 => {
                    if file.closed.load(Ordering::SeqCst) {
                        refused.extend_from_slice(&[tokens[i] as i32, ST_WRITE_ERROR, libc::EBADF]);
                        continue;
                    }
                    file.pending.fetch_add(1, Ordering::SeqCst);
                    ops.push(Op { file: file.clone(), kind: OpKind::Barrier { token: tokens[i] } });
                    wake = true;
                }
                k => return Err(Error::new(Status::InvalidArg, format!("submit: unknown op kind {k}"))),
            }
        }
        if refused.is_empty() && inline_max_bytes > 0.0 && self.inline_sync_allowed(&ops, inline_max_bytes) {
            return Ok(self.run_inline(ops));
        }
        if !ops.is_empty() {
            self.shared.queue.lock().unwrap().append(&mut ops);
        }
        if wake {
            self.shared.wake();
        }
        self.shared.complete(&mut refused);
        Ok(Vec::new())
    }

    /// One file, writes then exactly one sync as the last op, within the byte budget, and the
    /// file had nothing queued or in flight before this batch (its pending count is this batch's).
    fn inline_sync_allowed(&self, ops: &[Op], max_bytes: f64) -> bool {
        let Some(last) = ops.last() else { return false };
        if !matches!(last.kind, OpKind::Sync { .. }) {
            return false;
        }
        let file = &last.file;
        let mut bytes = 0usize;
        for op in &ops[..ops.len() - 1] {
            if !Arc::ptr_eq(&op.file, file) {
                return false;
            }
            match &op.kind {
                OpKind::Write { data, .. } => bytes += data.bytes().len(),
                _ => return false,
            }
        }
        (bytes as f64) <= max_bytes && file.pending.load(Ordering::SeqCst) as usize == ops.len() && file.failed.load(Ordering::SeqCst) == 0
    }

    fn run_inline(&self, ops: Vec<Op>) -> Vec<i32> {
        let file = ops[0].file.clone();
        let mut q: VecDeque<OpKind> = ops.into_iter().map(|op| op.kind).collect();
        let mut markers = 1usize;
        let mut chain = take_chain(&file, &mut q, usize::MAX, &mut markers);
        debug_assert!(q.is_empty());
        self.shared.counters.inline_syncs.fetch_add(1, Ordering::Relaxed);
        let outcome = run_chain_blocking(&self.shared, &chain);
        // On the JS thread: the borrowed buffers can be released right here.
        for g in chain.groups.iter_mut() {
            g.iov.clear();
            g.bufs.clear();
        }
        let mut out = Vec::with_capacity(3);
        finish_chain(&self.shared, chain, outcome, &mut out);
        out
    }

    #[napi]
    pub fn stats(&self) -> IoEngineStats {
        let c = &self.shared.counters;
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64;
        IoEngineStats {
            writes: g(&c.writes),
            write_bytes: g(&c.write_bytes),
            writev_calls: g(&c.writev_calls),
            sync_requests: g(&c.sync_requests),
            fdatasyncs: g(&c.fdatasyncs),
            chains: g(&c.chains),
            cycles: g(&c.cycles),
            wakeups: g(&c.wakeups),
            notifies: g(&c.notifies),
            slow_paths: g(&c.slow_paths),
            async_reads: g(&c.async_reads),
            inline_syncs: g(&c.inline_syncs),
            syncfs_calls: g(&c.syncfs_calls),
            syncfs_covered: g(&c.syncfs_covered),
            syncfs_micros: g(&c.syncfs_micros),
        }
    }
}

/// One open file of an engine. Positions are chosen by the caller (JS tracks the append end).
#[napi]
pub struct NativeFile {
    shared: Arc<Shared>,
    file: Arc<FileEntry>,
    size: f64,
}

fn check_pos(what: &str, v: f64) -> Result<u64> {
    if !(v >= 0.0) || v > 9.0e15 || v.fract() != 0.0 {
        return Err(Error::new(Status::InvalidArg, format!("{what}: bad position {v}")));
    }
    Ok(v as u64)
}

impl NativeFile {
    fn usable(&self, what: &str) -> Result<()> {
        if self.file.closed.load(Ordering::SeqCst) {
            return Err(os_error(what, libc::EBADF));
        }
        let f = self.file.failed.load(Ordering::SeqCst);
        if f != 0 {
            return Err(os_error(what, f));
        }
        Ok(())
    }

    /// Blocks until nothing is queued or in flight for this file.
    fn drain(&self) {
        if self.file.pending.load(Ordering::SeqCst) == 0 {
            return;
        }
        self.shared.push(Op { file: self.file.clone(), kind: OpKind::Flush }, true);
        let mut g = self.shared.drain_lock.lock().unwrap();
        while self.file.pending.load(Ordering::SeqCst) != 0 {
            g = self.shared.drain_cv.wait_timeout(g, std::time::Duration::from_millis(50)).unwrap().0;
            self.shared.wake();
        }
    }
}

#[napi]
impl NativeFile {
    /// File size when opened.
    #[napi(getter)]
    pub fn initial_size(&self) -> f64 {
        self.size
    }

    /// The descriptor, for positioned reads on the JS thread into a JS-allocated buffer (cheaper
    /// than a native allocation per read: see bench/RESULTS.md "Segment I/O"). -1 once closed.
    #[napi(getter)]
    pub fn fd(&self) -> i32 {
        if self.file.closed.load(Ordering::SeqCst) {
            -1
        } else {
            self.file.fd
        }
    }

    /// Queues a copy of `data` to be written at `pos`. Returns the written end (every byte below
    /// it is in the file). `wake`: start the worker now; false leaves it to the next sync or kick.
    /// Throws at once if the file has failed (sticky write error) or is closed.
    #[napi]
    pub fn write(&self, pos: f64, data: &[u8], wake: bool) -> Result<f64> {
        self.usable("write")?;
        let pos = check_pos("write", pos)?;
        let c = &self.shared.counters;
        c.writes.fetch_add(1, Ordering::Relaxed);
        c.write_bytes.fetch_add(data.len() as u64, Ordering::Relaxed);
        if !data.is_empty() {
            self.shared.push(Op { file: self.file.clone(), kind: OpKind::Write { pos, data: WriteData::Owned(data.to_vec()) } }, wake);
        }
        Ok(self.file.written_end.load(Ordering::SeqCst) as f64)
    }

    /// Starts the writes queued so far (no fsync, no completion): for writes no sync will follow soon.
    #[napi]
    pub fn kick(&self) {
        if self.file.pending.load(Ordering::SeqCst) > 0 && !self.file.closed.load(Ordering::SeqCst) {
            self.shared.push(Op { file: self.file.clone(), kind: OpKind::Flush }, true);
        }
    }

    /// Queues a datasync covering every write queued before it; completion `token`.
    #[napi]
    pub fn sync(&self, token: u32) -> Result<()> {
        if self.file.closed.load(Ordering::SeqCst) {
            return Err(os_error("fdatasync", libc::EBADF));
        }
        self.shared.counters.sync_requests.fetch_add(1, Ordering::Relaxed);
        self.shared.push(Op { file: self.file.clone(), kind: OpKind::Sync { token } }, true);
        Ok(())
    }

    /// Positioned read on the calling thread (up to `len` bytes; fewer at end of file).
    #[napi]
    pub fn read(&self, pos: f64, len: u32) -> Result<Buffer> {
        if self.file.closed.load(Ordering::SeqCst) {
            return Err(os_error("read", libc::EBADF));
        }
        let pos = check_pos("read", pos)?;
        let mut buf = vec![0u8; len as usize];
        let n = blocking_pread(self.file.fd, &mut buf, pos).map_err(|e| os_error("read", e))?;
        buf.truncate(n);
        Ok(Buffer::from(buf))
    }

    /// Positioned read on the worker; completion `token`, bytes via `engine.takeRead(token)`.
    #[napi]
    pub fn read_async(&self, pos: f64, len: u32, token: u32) -> Result<()> {
        if self.file.closed.load(Ordering::SeqCst) {
            return Err(os_error("read", libc::EBADF));
        }
        let pos = check_pos("read", pos)?;
        self.shared.push(Op { file: self.file.clone(), kind: OpKind::Read { pos, len: len as usize, token } }, true);
        Ok(())
    }

    /// End of the data the worker has written so far.
    #[napi]
    pub fn written_end(&self) -> f64 {
        self.file.written_end.load(Ordering::SeqCst) as f64
    }

    /// Errno of the sticky write failure, or 0.
    #[napi(getter)]
    pub fn failed_errno(&self) -> i32 {
        self.file.failed.load(Ordering::SeqCst)
    }

    /// Waits until queued work of this file is done, then cuts the file to `size` bytes.
    #[napi]
    pub fn truncate(&self, size: f64) -> Result<()> {
        let size = check_pos("truncate", size)?;
        self.drain();
        self.usable("ftruncate")?;
        if unsafe { libc::ftruncate(self.file.fd, size as libc::off_t) } != 0 {
            return Err(os_error("ftruncate", errno()));
        }
        self.file.written_end.store(size, Ordering::SeqCst);
        Ok(())
    }

    /// Waits until queued work of this file is done, then closes it. Idempotent.
    #[napi]
    pub fn close(&self) -> Result<()> {
        if self.file.closed.load(Ordering::SeqCst) {
            return Ok(());
        }
        self.drain();
        self.file.closed.store(true, Ordering::SeqCst);
        if unsafe { libc::close(self.file.fd) } != 0 {
            return Err(os_error("close", errno()));
        }
        Ok(())
    }
}
