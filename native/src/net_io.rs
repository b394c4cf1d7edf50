//! A TCP listener for Kafka frames served by a thread of its own, so that the event loop spends no
//! time in `recvfrom`/`sendto` and the runtime allocates no fresh buffer per socket read.
//!
//! - The network thread (epoll, edge-triggered) accepts, reads, splits the byte stream into frames
//!   ([int32 size][size bytes]) and copies each complete frame into one of two staging blocks that
//!   JS sees as Buffers (created once). It records an event per frame ([kind, connection, offset,
//!   length]) and rings the JS thread through a thread-safe function, at most once until JS came to
//!   take the events.
//! - `takeEvents` hands JS the events and the block they point into, and switches the thread to
//!   the other block. JS copies what it keeps before it takes again: a block is rewritten only
//!   after the next take. When the block or the event list is full, the thread stops reading (the
//!   bytes wait in the kernel, TCP pushes back on the client) until JS takes.
//! - Frames above `BIG_FRAME` are handed over whole (`takeBig`), not staged.
//! - Responses: `NetConnection.write` copies the bytes into the connection's queue and wakes the
//!   thread, which writes them out (writev) and keeps EPOLLOUT interest while the kernel is full.
//!   Past `OUT_LIMIT` queued bytes, `write` refuses (returns 0) and a DRAIN event follows once the
//!   queue is empty again: the same contract as Bun's socket.write / drain.
//!
//! Only the network thread touches descriptors (it closes them), so JS never races a reused fd.

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use std::collections::{HashMap, VecDeque};
use std::os::fd::IntoRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

const STAGE_BYTES: usize = 8 << 20;
const BIG_FRAME: usize = 1 << 20;
/// Room for events, in i32s (4 per event); JS's event array must hold this many.
pub const EVENT_INTS: usize = 64 * 1024;
const OUT_LIMIT: usize = 32 << 20;
const READ_CHUNK: usize = 256 << 10;
/// Reads per connection per loop round before others get their turn (edge-triggered: the
/// connection stays marked readable and is read again next round).
const READS_PER_ROUND: usize = 8;

const EV_OPEN: i32 = 1;
const EV_FRAME: i32 = 2;
const EV_BIG: i32 = 3;
const EV_DRAIN: i32 = 4;
const EV_CLOSED: i32 = 5;
const EV_BAD_FRAME: i32 = 6;

const TOKEN_LISTENER: u64 = 0;
const TOKEN_WAKE: u64 = u64::MAX;

type Notify = ThreadsafeFunction<(), (), (), Status, false, true>;

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

struct OutQueue {
    chunks: VecDeque<Vec<u8>>,
    /// Bytes of the front chunk already written.
    head_written: usize,
    bytes: usize,
    want_drain: bool,
    /// JS asked to close once everything queued is written.
    ending: bool,
}

struct ConnShared {
    id: u32,
    remote: String,
    out: Mutex<OutQueue>,
    paused: AtomicBool,
    closed: AtomicBool,
}

struct Inbox {
    events: Vec<i32>,
    /// The staging block being filled (0 or 1), and how much of it is used.
    filling: usize,
    used: usize,
    big: HashMap<u32, Vec<u8>>,
    next_big: u32,
    /// A connection stopped parsing for want of room: retry after the next take.
    stalled: bool,
}

#[derive(Default)]
struct Work {
    flush: Vec<u32>,
    resume: Vec<u32>,
    retry_stalled: bool,
    stop_listening: bool,
    shutdown: bool,
}

struct Stage(*mut u8);
// The staging memory is written by the network thread only in the block JS does not read (the
// switch happens under the inbox lock), and freed only when nothing references it.
unsafe impl Send for Stage {}
unsafe impl Sync for Stage {}

struct Shared {
    epfd: i32,
    efd: i32,
    sleeping: AtomicBool,
    inbox: Mutex<Inbox>,
    stages: [Stage; 2],
    conns: Mutex<HashMap<u32, Arc<ConnShared>>>,
    work: Mutex<Work>,
    notified: AtomicBool,
    notify: Notify,
    max_frame: usize,
    notifies: AtomicU64,
    wakeups: AtomicU64,
    /// Times a connection stopped reading for want of staging room, and writes refused at OUT_LIMIT.
    stalls: AtomicU64,
    refused_writes: AtomicU64,
}

impl Drop for Shared {
    fn drop(&mut self) {
        for s in &self.stages {
            unsafe { drop(Vec::from_raw_parts(s.0, STAGE_BYTES, STAGE_BYTES)) };
        }
        unsafe {
            libc::close(self.epfd);
            libc::close(self.efd);
        }
    }
}

impl Shared {
    fn wake(&self) {
        if self.sleeping.swap(false, Ordering::SeqCst) {
            self.wakeups.fetch_add(1, Ordering::Relaxed);
            let one: u64 = 1;
            unsafe { libc::write(self.efd, &one as *const u64 as *const libc::c_void, 8) };
        }
    }

    fn push_work(&self, f: impl FnOnce(&mut Work)) {
        f(&mut self.work.lock().unwrap());
        self.wake();
    }

    fn poke(&self) {
        if !self.notified.swap(true, Ordering::SeqCst) {
            self.notifies.fetch_add(1, Ordering::Relaxed);
            self.notify.call((), ThreadsafeFunctionCallMode::NonBlocking);
        }
    }

    fn event(&self, e: [i32; 4]) {
        self.inbox.lock().unwrap().events.extend_from_slice(&e);
    }
}

enum Delivery {
    Done,
    NoRoom,
}

/// The network thread's view of one connection.
struct ConnIo {
    fd: i32,
    shared: Arc<ConnShared>,
    inbuf: Vec<u8>,
    /// Start of the unparsed bytes in `inbuf`.
    start: usize,
    readable: bool,
    writable: bool,
    stalled: bool,
}

struct NetThread {
    shared: Arc<Shared>,
    listen_fd: i32,
    conns: HashMap<u32, ConnIo>,
    next_id: u32,
    pending_notify: bool,
}

impl NetThread {
    fn run(mut self) {
        let mut evs: Vec<libc::epoll_event> = vec![libc::epoll_event { events: 0, u64: 0 }; 256];
        loop {
            let busy = self.conns.values().any(|c| (c.readable && !c.stalled && !c.shared.paused.load(Ordering::Relaxed)) || c.writable);
            self.shared.sleeping.store(true, Ordering::SeqCst);
            let has_work = {
                let w = self.shared.work.lock().unwrap();
                !w.flush.is_empty() || !w.resume.is_empty() || w.retry_stalled || w.stop_listening || w.shutdown
            };
            let timeout = if busy || has_work { 0 } else { -1 };
            if timeout == 0 {
                self.shared.sleeping.store(false, Ordering::SeqCst);
            }
            let n = unsafe { libc::epoll_wait(self.shared.epfd, evs.as_mut_ptr(), evs.len() as i32, timeout) };
            self.shared.sleeping.store(false, Ordering::SeqCst);
            if n < 0 {
                if errno() == libc::EINTR {
                    continue;
                }
                panic!("epoll_wait failed: {}", std::io::Error::last_os_error());
            }
            for ev in &evs[..n as usize] {
                let token = ev.u64;
                let flags = ev.events;
                if token == TOKEN_WAKE {
                    let mut v: u64 = 0;
                    unsafe { libc::read(self.shared.efd, &mut v as *mut u64 as *mut libc::c_void, 8) };
                } else if token == TOKEN_LISTENER {
                    self.accept_all();
                } else if let Some(c) = self.conns.get_mut(&(token as u32)) {
                    if flags & (libc::EPOLLIN | libc::EPOLLHUP | libc::EPOLLERR | libc::EPOLLRDHUP) as u32 != 0 {
                        c.readable = true;
                    }
                    if flags & (libc::EPOLLOUT | libc::EPOLLHUP | libc::EPOLLERR) as u32 != 0 {
                        c.writable = true;
                    }
                }
            }
            let work = std::mem::take(&mut *self.shared.work.lock().unwrap());
            for id in work.flush {
                if let Some(c) = self.conns.get_mut(&id) {
                    c.writable = true;
                }
            }
            for id in work.resume {
                if let Some(c) = self.conns.get_mut(&id) {
                    c.readable = true;
                }
            }
            if work.retry_stalled {
                for c in self.conns.values_mut() {
                    c.stalled = false;
                }
            }
            if work.stop_listening && self.listen_fd >= 0 {
                unsafe {
                    libc::epoll_ctl(self.shared.epfd, libc::EPOLL_CTL_DEL, self.listen_fd, std::ptr::null_mut());
                    libc::close(self.listen_fd);
                }
                self.listen_fd = -1;
            }
            if work.shutdown {
                let ids: Vec<u32> = self.conns.keys().copied().collect();
                for id in ids {
                    self.close_conn(id, 0);
                }
                if self.listen_fd >= 0 {
                    unsafe { libc::close(self.listen_fd) };
                }
                self.flush_notify();
                return;
            }
            let ids: Vec<u32> = self.conns.keys().copied().collect();
            for id in ids {
                self.service(id);
            }
            self.flush_notify();
        }
    }

    fn flush_notify(&mut self) {
        if self.pending_notify {
            self.pending_notify = false;
            self.shared.poke();
        }
    }

    fn accept_all(&mut self) {
        if self.listen_fd < 0 {
            return;
        }
        loop {
            let mut addr: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
            let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            let fd = unsafe {
                libc::accept4(self.listen_fd, &mut addr as *mut _ as *mut libc::sockaddr, &mut len, libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC)
            };
            if fd < 0 {
                let e = errno();
                if e == libc::EINTR || e == libc::ECONNABORTED {
                    continue;
                }
                // EAGAIN: all taken. EMFILE/ENFILE and the rest: try again on the next edge.
                return;
            }
            let one: libc::c_int = 1;
            unsafe {
                libc::setsockopt(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, &one as *const _ as *const libc::c_void, 4);
            }
            self.next_id = self.next_id.wrapping_add(1).max(1);
            let id = self.next_id;
            let shared = Arc::new(ConnShared {
                id,
                remote: remote_text(&addr),
                out: Mutex::new(OutQueue { chunks: VecDeque::new(), head_written: 0, bytes: 0, want_drain: false, ending: false }),
                paused: AtomicBool::new(false),
                closed: AtomicBool::new(false),
            });
            let mut ev = libc::epoll_event {
                events: (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET) as u32,
                u64: id as u64,
            };
            if unsafe { libc::epoll_ctl(self.shared.epfd, libc::EPOLL_CTL_ADD, fd, &mut ev) } < 0 {
                unsafe { libc::close(fd) };
                continue;
            }
            self.shared.conns.lock().unwrap().insert(id, shared.clone());
            self.conns.insert(id, ConnIo { fd, shared, inbuf: Vec::new(), start: 0, readable: true, writable: false, stalled: false });
            self.shared.event([EV_OPEN, id as i32, 0, 0]);
            self.pending_notify = true;
        }
    }

    fn service(&mut self, id: u32) {
        let Some(c) = self.conns.get_mut(&id) else { return };
        if c.writable {
            c.writable = false;
            match flush_out(c.fd, &c.shared) {
                Flush::Error(e) => return self.close_conn(id, e),
                Flush::Ended => return self.close_conn(id, 0),
                Flush::Drained(true) => {
                    self.shared.event([EV_DRAIN, id as i32, 0, 0]);
                    self.pending_notify = true;
                }
                Flush::Drained(false) | Flush::Blocked => {}
            }
        }
        let c = self.conns.get_mut(&id).unwrap();
        if c.stalled || c.shared.paused.load(Ordering::Relaxed) {
            return;
        }
        // Frames left over from a stall come first.
        match parse_frames(&self.shared, c) {
            Parse::Ok(delivered) => self.pending_notify |= delivered,
            Parse::Stalled(delivered) => {
                self.pending_notify |= delivered;
                return;
            }
            Parse::Bad(size) => return self.bad_frame(id, size),
        }
        if !c.readable {
            return;
        }
        for _ in 0..READS_PER_ROUND {
            let c = self.conns.get_mut(&id).unwrap();
            if c.shared.paused.load(Ordering::Relaxed) {
                return;
            }
            // Room for the frame being received (its size is known once 4 bytes are in), else a chunk.
            let pending = c.inbuf.len() - c.start;
            let want = if pending >= 4 {
                let size = frame_size(&c.inbuf[c.start..]) as usize;
                (4 + size - pending).max(4096)
            } else {
                READ_CHUNK
            };
            if c.start > 0 && (c.inbuf.capacity() - c.inbuf.len() < want) {
                c.inbuf.drain(..c.start);
                c.start = 0;
            }
            c.inbuf.reserve(want);
            let len = c.inbuf.len();
            let room = c.inbuf.capacity() - len;
            let n = unsafe { libc::read(c.fd, c.inbuf.as_mut_ptr().add(len) as *mut libc::c_void, room) };
            if n == 0 {
                return self.close_conn(id, 0);
            }
            if n < 0 {
                let e = errno();
                if e == libc::EAGAIN || e == libc::EWOULDBLOCK {
                    c.readable = false;
                    return;
                }
                if e == libc::EINTR {
                    continue;
                }
                return self.close_conn(id, e);
            }
            unsafe { c.inbuf.set_len(len + n as usize) };
            match parse_frames(&self.shared, c) {
                Parse::Ok(delivered) => self.pending_notify |= delivered,
                Parse::Stalled(delivered) => {
                    self.pending_notify |= delivered;
                    return;
                }
                Parse::Bad(size) => return self.bad_frame(id, size),
            }
        }
    }

    fn bad_frame(&mut self, id: u32, size: i32) {
        self.shared.event([EV_BAD_FRAME, id as i32, size, 0]);
        self.close_conn(id, 0);
    }

    fn close_conn(&mut self, id: u32, err: i32) {
        let Some(c) = self.conns.remove(&id) else { return };
        c.shared.closed.store(true, Ordering::SeqCst);
        unsafe {
            libc::epoll_ctl(self.shared.epfd, libc::EPOLL_CTL_DEL, c.fd, std::ptr::null_mut());
            libc::close(c.fd);
        }
        // The handle stays findable until JS has seen the CLOSED event (`forget`): a connection
        // that opened and closed before JS took its OPEN event still gets its frames dispatched.
        self.shared.event([EV_CLOSED, id as i32, err, 0]);
        self.pending_notify = true;
    }
}

fn frame_size(b: &[u8]) -> i32 {
    i32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

enum Parse {
    Ok(bool),
    Stalled(bool),
    Bad(i32),
}

/// Delivers every complete frame in the connection's buffer (the bool: whether any was).
fn parse_frames(shared: &Shared, c: &mut ConnIo) -> Parse {
    let mut delivered = false;
    loop {
        let avail = c.inbuf.len() - c.start;
        if avail < 4 {
            break;
        }
        let size = frame_size(&c.inbuf[c.start..]);
        if size < 0 || size as usize > shared.max_frame {
            return Parse::Bad(size);
        }
        let size = size as usize;
        if avail < 4 + size {
            break;
        }
        let from = c.start + 4;
        match deliver(shared, c.shared.id, &c.inbuf[from..from + size]) {
            Delivery::Done => {
                delivered = true;
                c.start = from + size;
            }
            Delivery::NoRoom => {
                shared.stalls.fetch_add(1, Ordering::Relaxed);
                c.stalled = true;
                return Parse::Stalled(delivered);
            }
        }
    }
    if c.start == c.inbuf.len() {
        c.inbuf.clear();
        c.start = 0;
        // A buffer grown for one big frame is not kept.
        if c.inbuf.capacity() > 4 * READ_CHUNK {
            c.inbuf = Vec::new();
        }
    }
    Parse::Ok(delivered)
}

fn deliver(shared: &Shared, id: u32, frame: &[u8]) -> Delivery {
    let mut inbox = shared.inbox.lock().unwrap();
    if inbox.events.len() + 4 > EVENT_INTS {
        inbox.stalled = true;
        return Delivery::NoRoom;
    }
    if frame.len() > BIG_FRAME {
        inbox.next_big = inbox.next_big.wrapping_add(1);
        let token = inbox.next_big;
        inbox.big.insert(token, frame.to_vec());
        inbox.events.extend_from_slice(&[EV_BIG, id as i32, token as i32, frame.len() as i32]);
        return Delivery::Done;
    }
    if inbox.used + frame.len() > STAGE_BYTES {
        inbox.stalled = true;
        return Delivery::NoRoom;
    }
    let at = inbox.used;
    let block = shared.stages[inbox.filling].0;
    unsafe { std::ptr::copy_nonoverlapping(frame.as_ptr(), block.add(at), frame.len()) };
    // 8-byte alignment keeps the next frame's copy and any typed views of it aligned.
    inbox.used = (at + frame.len() + 7) & !7;
    inbox.events.extend_from_slice(&[EV_FRAME, id as i32, at as i32, frame.len() as i32]);
    Delivery::Done
}

enum Flush {
    /// Everything written; true when JS waits for a drain event.
    Drained(bool),
    Blocked,
    Ended,
    Error(i32),
}

fn flush_out(fd: i32, conn: &ConnShared) -> Flush {
    let mut q = conn.out.lock().unwrap();
    loop {
        if q.chunks.is_empty() {
            if q.ending {
                return Flush::Ended;
            }
            let drain = std::mem::replace(&mut q.want_drain, false);
            return Flush::Drained(drain);
        }
        let mut iov: Vec<libc::iovec> = Vec::with_capacity(q.chunks.len().min(64));
        for (i, ch) in q.chunks.iter().take(64).enumerate() {
            let skip = if i == 0 { q.head_written } else { 0 };
            iov.push(libc::iovec { iov_base: unsafe { ch.as_ptr().add(skip) } as *mut libc::c_void, iov_len: ch.len() - skip });
        }
        let n = unsafe { libc::writev(fd, iov.as_ptr(), iov.len() as i32) };
        if n < 0 {
            let e = errno();
            if e == libc::EAGAIN || e == libc::EWOULDBLOCK {
                return Flush::Blocked;
            }
            if e == libc::EINTR {
                continue;
            }
            return Flush::Error(e);
        }
        let mut left = n as usize;
        q.bytes -= left;
        while left > 0 {
            let head_rest = q.chunks[0].len() - q.head_written;
            if left >= head_rest {
                left -= head_rest;
                q.chunks.pop_front();
                q.head_written = 0;
            } else {
                q.head_written += left;
                left = 0;
            }
        }
    }
}

fn remote_text(addr: &libc::sockaddr_storage) -> String {
    match addr.ss_family as i32 {
        libc::AF_INET => {
            let a = unsafe { &*(addr as *const _ as *const libc::sockaddr_in) };
            std::net::Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)).to_string()
        }
        libc::AF_INET6 => {
            let a = unsafe { &*(addr as *const _ as *const libc::sockaddr_in6) };
            let ip = std::net::Ipv6Addr::from(a.sin6_addr.s6_addr);
            match ip.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => ip.to_string(),
            }
        }
        _ => String::new(),
    }
}

/// One listening socket and its network thread.
#[napi]
pub struct NetServer {
    shared: Arc<Shared>,
    host: String,
    port: u32,
    referred: AtomicBool,
    stopped: AtomicBool,
}

#[napi(object)]
pub struct NetServerStats {
    /// Times the JS thread was rung, and times the network thread was woken from its wait.
    pub notifies: f64,
    pub wakeups: f64,
    /// Times a connection stopped reading until JS took the staged frames (staging block full).
    pub stalls: f64,
    /// Writes refused because the connection's queue was past its limit.
    pub refused_writes: f64,
}

#[napi]
impl NetServer {
    /// Binds `host:port` (port 0: any) and starts the thread. `onReady` is called (no arguments)
    /// when events can be taken. Frames above `maxFrameBytes` close their connection.
    #[napi(constructor)]
    pub fn new(host: String, port: u32, max_frame_bytes: f64, on_ready: Function<(), ()>) -> Result<Self> {
        let notify: Notify = on_ready.build_threadsafe_function().callee_handled::<false>().weak::<true>().build()?;
        let listener = std::net::TcpListener::bind((host.as_str(), port as u16))
            .map_err(|e| Error::new(Status::GenericFailure, format!("cannot listen on {host}:{port}: {e}")))?;
        listener.set_nonblocking(true).map_err(|e| Error::new(Status::GenericFailure, e.to_string()))?;
        let local = listener.local_addr().map_err(|e| Error::new(Status::GenericFailure, e.to_string()))?;
        let listen_fd = listener.into_raw_fd();
        let epfd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        let efd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if epfd < 0 || efd < 0 {
            return Err(Error::new(Status::GenericFailure, format!("epoll/eventfd: {}", std::io::Error::last_os_error())));
        }
        let mut lev = libc::epoll_event { events: libc::EPOLLIN as u32, u64: TOKEN_LISTENER };
        let mut wev = libc::epoll_event { events: libc::EPOLLIN as u32, u64: TOKEN_WAKE };
        unsafe {
            libc::epoll_ctl(epfd, libc::EPOLL_CTL_ADD, listen_fd, &mut lev);
            libc::epoll_ctl(epfd, libc::EPOLL_CTL_ADD, efd, &mut wev);
        }
        let stage = || {
            let mut v = vec![0u8; STAGE_BYTES];
            let p = v.as_mut_ptr();
            std::mem::forget(v);
            Stage(p)
        };
        let shared = Arc::new(Shared {
            epfd,
            efd,
            sleeping: AtomicBool::new(false),
            inbox: Mutex::new(Inbox { events: Vec::with_capacity(EVENT_INTS), filling: 0, used: 0, big: HashMap::new(), next_big: 0, stalled: false }),
            stages: [stage(), stage()],
            conns: Mutex::new(HashMap::new()),
            work: Mutex::new(Work::default()),
            notified: AtomicBool::new(false),
            notify,
            max_frame: max_frame_bytes.max(0.0) as usize,
            notifies: AtomicU64::new(0),
            wakeups: AtomicU64::new(0),
            stalls: AtomicU64::new(0),
            refused_writes: AtomicU64::new(0),
        });
        let net = NetThread { shared: shared.clone(), listen_fd, conns: HashMap::new(), next_id: 0, pending_notify: false };
        thread::Builder::new()
            .name("bunka-net".to_string())
            .spawn(move || net.run())
            .map_err(|e| Error::new(Status::GenericFailure, format!("cannot start the network thread: {e}")))?;
        Ok(NetServer { shared, host: local.ip().to_string(), port: local.port() as u32, referred: AtomicBool::new(false), stopped: AtomicBool::new(false) })
    }

    #[napi(getter)]
    pub fn host(&self) -> String {
        self.host.clone()
    }

    #[napi(getter)]
    pub fn port(&self) -> u32 {
        self.port
    }

    /// Capacity of the array `takeEvents` fills, in int32s.
    #[napi(getter)]
    pub fn event_capacity(&self) -> u32 {
        EVENT_INTS as u32
    }

    /// The staging block `i` (0 or 1) as a Buffer over the addon's memory (made once per block:
    /// the memory lives as long as the server or the last Buffer over it).
    #[napi]
    pub fn stage(&self, env: Env, i: u32) -> Result<BufferSlice<'_>> {
        let s = self.shared.stages.get(i as usize).ok_or_else(|| Error::new(Status::InvalidArg, "stage is 0 or 1"))?;
        let keep = self.shared.clone();
        unsafe { BufferSlice::from_external(&env, s.0, STAGE_BYTES, keep, |_, k| drop(k)) }
    }

    /// Moves the pending events into `out` (int32s: kind, connection, a, b per event) and returns
    /// `[count, block]`: how many int32s were written and which staging block FRAME events point
    /// into. The block stays untouched until the next call.
    #[napi]
    pub fn take_events(&self, mut out: Int32Array) -> Result<Vec<u32>> {
        self.shared.notified.store(false, Ordering::SeqCst);
        let out = unsafe { out.as_mut() };
        let (n, block, retry) = {
            let mut inbox = self.shared.inbox.lock().unwrap();
            let n = inbox.events.len();
            if n > out.len() {
                return Err(Error::new(Status::InvalidArg, format!("event array holds {} int32s, {n} pending", out.len())));
            }
            out[..n].copy_from_slice(&inbox.events);
            inbox.events.clear();
            let block = inbox.filling;
            inbox.filling = 1 - block;
            inbox.used = 0;
            let retry = std::mem::replace(&mut inbox.stalled, false);
            (n, block, retry)
        };
        if retry {
            self.shared.push_work(|w| w.retry_stalled = true);
        }
        Ok(vec![n as u32, block as u32])
    }

    /// The bytes of a BIG event (once).
    #[napi]
    pub fn take_big(&self, token: u32) -> Option<Buffer> {
        self.shared.inbox.lock().unwrap().big.remove(&token).map(Buffer::from)
    }

    /// The handle of a connection announced by an OPEN event (null after `forget`).
    #[napi]
    pub fn connection(&self, id: u32) -> Option<NetConnection> {
        let c = self.shared.conns.lock().unwrap().get(&id).cloned()?;
        Some(NetConnection { conn: c, server: self.shared.clone() })
    }

    /// Drops the handle of a connection whose CLOSED event JS has handled.
    #[napi]
    pub fn forget(&self, id: u32) {
        self.shared.conns.lock().unwrap().remove(&id);
    }

    /// Stops accepting connections (the open ones go on).
    #[napi]
    pub fn stop_listening(&self) {
        self.shared.push_work(|w| w.stop_listening = true);
    }

    /// Closes every connection and ends the thread.
    #[napi]
    pub fn close(&self) {
        if !self.stopped.swap(true, Ordering::SeqCst) {
            self.shared.push_work(|w| w.shutdown = true);
        }
    }

    /// Keeps the event loop alive while the server listens; `unrefLoop` lets it exit again.
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

    #[napi]
    pub fn stats(&self) -> NetServerStats {
        NetServerStats {
            notifies: self.shared.notifies.load(Ordering::Relaxed) as f64,
            wakeups: self.shared.wakeups.load(Ordering::Relaxed) as f64,
            stalls: self.shared.stalls.load(Ordering::Relaxed) as f64,
            refused_writes: self.shared.refused_writes.load(Ordering::Relaxed) as f64,
        }
    }
}

/// One accepted connection, as JS holds it.
#[napi]
pub struct NetConnection {
    conn: Arc<ConnShared>,
    server: Arc<Shared>,
}

#[napi]
impl NetConnection {
    #[napi(getter)]
    pub fn id(&self) -> u32 {
        self.conn.id
    }

    #[napi(getter)]
    pub fn remote_address(&self) -> String {
        self.conn.remote.clone()
    }

    /// Queues a copy of `data` for the network thread. Returns its length, or 0 when the queue is
    /// past its limit (nothing queued; a DRAIN event follows once the queue emptied), or -1 when
    /// the connection is closed.
    #[napi]
    pub fn write(&self, data: &[u8]) -> i32 {
        if self.conn.closed.load(Ordering::Relaxed) {
            return -1;
        }
        let was_empty = {
            let mut q = self.conn.out.lock().unwrap();
            if q.ending {
                return -1;
            }
            if q.bytes >= OUT_LIMIT {
                self.server.refused_writes.fetch_add(1, Ordering::Relaxed);
                q.want_drain = true;
                return 0;
            }
            let was_empty = q.chunks.is_empty();
            q.bytes += data.len();
            q.chunks.push_back(data.to_vec());
            was_empty
        };
        if was_empty {
            let id = self.conn.id;
            self.server.push_work(|w| w.flush.push(id));
        }
        data.len() as i32
    }

    /// Stops reading from the client (requests wait in the kernel and TCP pushes back).
    #[napi]
    pub fn pause(&self) {
        self.conn.paused.store(true, Ordering::SeqCst);
    }

    #[napi]
    pub fn resume(&self) {
        if self.conn.paused.swap(false, Ordering::SeqCst) {
            let id = self.conn.id;
            self.server.push_work(|w| w.resume.push(id));
        }
    }

    /// Closes once every queued byte is written (a CLOSED event follows).
    #[napi]
    pub fn end(&self) {
        self.conn.out.lock().unwrap().ending = true;
        let id = self.conn.id;
        self.server.push_work(|w| w.flush.push(id));
    }
}
