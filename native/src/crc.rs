//! CRC-32C (Castagnoli), the checksum of Kafka record batches (magic v2).
//!
//! The `crc32c` crate picks SSE4.2 (x86_64) or the ARMv8 CRC extension
//! (aarch64) at run time and falls back to a table-driven software CRC.
//! Inputs arrive as borrowed `&[u8]` views of the caller's Uint8Array/Buffer
//! (napi_get_typedarray_info, byteOffset already applied): nothing is copied.

use napi::{Error, Result, Status};
use napi_derive::napi;

// js_name is explicit: napi-derive's camelCase would turn `crc32c` into `crc32C`.

/// CRC-32C of `data`, continuing from `initial` (a previous result, default 0),
/// so `crc32c(b, crc32c(a)) == crc32c(a ++ b)`.
#[napi(js_name = "crc32c")]
pub fn crc32c_js(data: &[u8], initial: Option<u32>) -> u32 {
    ::crc32c::crc32c_append(initial.unwrap_or(0), data)
}

/// CRC-32C of `data[start..end]` (indices relative to the view), so a slice
/// of a larger buffer can be checksummed without building a subarray in JS.
#[napi(js_name = "crc32cRange")]
pub fn crc32c_range(data: &[u8], start: i64, end: i64) -> Result<u32> {
    let len = data.len() as i64;
    if start < 0 || end < start || end > len {
        return Err(Error::new(
            Status::InvalidArg,
            format!("crc32cRange: invalid range [{start}, {end}) for a view of length {len}"),
        ));
    }
    Ok(::crc32c::crc32c(&data[start as usize..end as usize]))
}

/// Name of the implementation the `crc32c` crate selects on this CPU. Mirrors
/// the crate's own run-time dispatch (see crc32c::crc32c_append).
#[napi(js_name = "crc32cImpl")]
pub fn crc32c_impl() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("sse4.2") {
            return "sse4.2";
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        if std::arch::is_aarch64_feature_detected!("crc") {
            return "aarch64-crc";
        }
    }
    "software"
}

/// The same CRC-32C for Bun's FFI (`bun:ffi`, src/native/index.ts), continuing from `initial`
/// like `crc32c`: a plain C call costs about 0.1 µs where a napi call costs about 0.5 µs, and the
/// produce path pays one per record batch. The caller guarantees that `data` points to `len`
/// readable bytes for the duration of the call (the JS side checks the range against the view).
#[no_mangle]
pub unsafe extern "C" fn bunka_crc32c(initial: u32, data: *const u8, len: usize) -> u32 {
    if len == 0 {
        return initial;
    }
    // SAFETY: per the contract above.
    ::crc32c::crc32c_append(initial, unsafe { std::slice::from_raw_parts(data, len) })
}
