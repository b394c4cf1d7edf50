//! Page-cache warm-up off the JS thread (used by src/log/page-cache-warmer.ts).
//!
//! `readahead(2)` of a file range as an N-API async task: it runs on the runtime's worker pool,
//! where the kernel allocates the range's page-cache pages (a hole of the file's sparse tail
//! becomes zero-filled pages, no disk block and no I/O), so the JS thread's later writes land in
//! pages that exist. Unlike a `pread` into a scratch buffer, nothing is copied to user space. The
//! kernel caps one call at the device's readahead limit (8 MiB here); the warmer asks for less.

use napi::bindgen_prelude::*;
use napi::{Env, Task};
use napi_derive::napi;

pub struct Readahead {
    fd: i32,
    offset: i64,
    length: usize,
}

impl Task for Readahead {
    /// 0, or the errno of the failed call.
    type Output = i32;
    type JsValue = i32;

    fn compute(&mut self) -> Result<Self::Output> {
        // SAFETY: readahead takes plain integers; a descriptor closed meanwhile gives EBADF.
        let r = unsafe { libc::readahead(self.fd, self.offset, self.length) };
        Ok(if r == 0 { 0 } else { std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO) })
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output)
    }
}

/// Resolves with 0 once the kernel has brought `[offset, offset + length)` of `fd` into the page
/// cache (as far as it takes one call), or with the errno of the failure.
#[napi]
pub fn readahead_async(fd: i32, offset: f64, length: f64) -> Result<AsyncTask<Readahead>> {
    if fd < 0 || !(offset >= 0.0) || !(length >= 0.0) || offset > i64::MAX as f64 {
        return Err(Error::new(Status::InvalidArg, "readahead: bad descriptor, offset or length".to_string()));
    }
    Ok(AsyncTask::new(Readahead { fd, offset: offset as i64, length: length as usize }))
}
