//! Kafka's record-batch compression codecs: gzip, snappy, lz4 and zstd.
//!
//! Codec ids are the values of the compression bits (0-2) of a v2 batch's attributes:
//! 1 = gzip, 2 = snappy, 3 = lz4, 4 = zstd. The wire formats are the ones Kafka's Java client
//! writes and reads:
//!
//! - gzip: RFC 1952 members (Java's GZIPOutputStream). Decompression accepts concatenated members.
//! - snappy: snappy-java's "xerial" stream framing: an 8-byte magic `82 'SNAPPY' 00`, two big-endian
//!   int32s (version 1, minimum compatible version 1), then blocks of `[int32 length][raw snappy]`,
//!   each block compressing at most 32 KiB of input (snappy-java's default block size). We always
//!   write xerial; decompression accepts xerial (also several concatenated streams, as snappy-java
//!   does) and plain raw snappy, which some non-Java producers send.
//! - lz4: the LZ4 frame format (not Kafka's pre-0.10 broken-checksum variant, which only magic v0
//!   used): 64 KiB independent blocks, no block or content checksum, as KafkaLZ4BlockOutputStream.
//! - zstd: standard zstd frames; the compressed frame records the content size.
//!
//! Decompression is bounded while it runs: output grows in steps and the call fails as soon as
//! it would exceed `max_output`, so a decompression bomb costs at most `max_output` bytes of
//! memory and the time to produce them. Snappy blocks are checked against the bound from their
//! length preamble before anything is allocated; zstd's window is capped from the bound so a
//! hostile frame cannot make the decoder reserve a huge window either.
//!
//! Errors carry a tag the TypeScript wrapper turns into `CodecError.kind`:
//! `LIMIT:` (the bound was hit), `CORRUPT:` (bad compressed data), `ARG:` (bad call).

use std::io::{Read, Write};

use napi::bindgen_prelude::Buffer;
use napi::{Error, Result, Status};
use napi_derive::napi;

pub const GZIP: u32 = 1;
pub const SNAPPY: u32 = 2;
pub const LZ4: u32 = 3;
pub const ZSTD: u32 = 4;

/// snappy-java's stream magic, followed by version and compatible-version int32s.
const XERIAL_MAGIC: [u8; 8] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];
const XERIAL_HEADER_LEN: usize = 16;
const XERIAL_VERSION: i32 = 1;
const XERIAL_COMPAT_VERSION: i32 = 1;
const XERIAL_BLOCK: usize = 32 * 1024;

/// Read granularity of the streaming decoders.
const CHUNK: usize = 64 * 1024;

const DEFAULT_GZIP_LEVEL: i32 = 6;
const DEFAULT_ZSTD_LEVEL: i32 = 3;

enum CodecError {
    Limit(usize),
    Corrupt(String),
    Arg(String),
}

impl From<CodecError> for Error {
    fn from(e: CodecError) -> Self {
        match e {
            CodecError::Limit(max) => Error::new(
                Status::GenericFailure,
                format!("LIMIT:decompressed data exceeds the limit of {max} bytes"),
            ),
            CodecError::Corrupt(msg) => Error::new(Status::GenericFailure, format!("CORRUPT:{msg}")),
            CodecError::Arg(msg) => Error::new(Status::InvalidArg, format!("ARG:{msg}")),
        }
    }
}

type CodecResult<T> = std::result::Result<T, CodecError>;

fn codec_name(codec: u32) -> &'static str {
    match codec {
        GZIP => "gzip",
        SNAPPY => "snappy",
        LZ4 => "lz4",
        ZSTD => "zstd",
        _ => "unknown",
    }
}

// ---------------------------------------------------------------------------------------------
// Bounded output

/// An output buffer that never holds (nor reserves) more than `max` bytes.
struct Bounded {
    out: Vec<u8>,
    max: usize,
}

impl Bounded {
    fn new(max: usize, hint: usize) -> Self {
        Bounded { out: Vec::with_capacity(hint.min(max)), max }
    }

    /// Makes room for `n` more bytes, failing when that would pass the bound. Capacity grows by
    /// doubling but is clamped to the bound, so the allocation never exceeds `max`.
    fn reserve(&mut self, n: usize) -> CodecResult<()> {
        let need = self.out.len().checked_add(n).ok_or(CodecError::Limit(self.max))?;
        if need > self.max {
            return Err(CodecError::Limit(self.max));
        }
        if need > self.out.capacity() {
            let target = need.max(self.out.capacity().saturating_mul(2)).max(CHUNK).min(self.max);
            self.out.reserve_exact(target - self.out.len());
        }
        Ok(())
    }

    /// Drains `r` straight into the buffer's tail (no bounce buffer). Reads are offered at most
    /// the room left under the bound plus one byte, so output past the bound is detected
    /// without ever being stored.
    fn read_all<R: Read>(&mut self, mut r: R, what: &str) -> CodecResult<()> {
        loop {
            let len = self.out.len();
            if len == self.out.capacity() && len < self.max {
                self.reserve(1)?;
            }
            // Zero-filling the window costs a pass over it: keep it a few chunks wide.
            let room = (self.out.capacity() - len).min(4 * CHUNK);
            if room == 0 {
                // At the bound: any further byte is one too many.
                let mut probe = [0u8; 1];
                return match r.read(&mut probe) {
                    Ok(0) => Ok(()),
                    Ok(_) => Err(CodecError::Limit(self.max)),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => Err(CodecError::Corrupt(format!("invalid {what} data: {e}"))),
                };
            }
            self.out.resize(len + room, 0);
            match r.read(&mut self.out[len..]) {
                Ok(0) => {
                    self.out.truncate(len);
                    return Ok(());
                }
                Ok(n) => self.out.truncate(len + n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => self.out.truncate(len),
                Err(e) => return Err(CodecError::Corrupt(format!("invalid {what} data: {e}"))),
            }
        }
    }
}

/// A first guess at the decompressed size: most Kafka payloads compress 2-5x.
fn size_hint(input_len: usize) -> usize {
    input_len.saturating_mul(4).saturating_add(1024)
}

// ---------------------------------------------------------------------------------------------
// gzip

fn gzip_compress(data: &[u8], level: i32) -> CodecResult<Vec<u8>> {
    if !(1..=9).contains(&level) {
        return Err(CodecError::Arg(format!("gzip level must be 1-9, got {level}")));
    }
    let out = Vec::with_capacity(data.len() / 2 + 64);
    let mut enc = flate2::write::GzEncoder::new(out, flate2::Compression::new(level as u32));
    enc.write_all(data).map_err(|e| CodecError::Corrupt(format!("gzip: {e}")))?;
    enc.finish().map_err(|e| CodecError::Corrupt(format!("gzip: {e}")))
}

fn gzip_decompress(data: &[u8], max: usize) -> CodecResult<Vec<u8>> {
    let mut out = Bounded::new(max, size_hint(data.len()));
    out.read_all(flate2::bufread::MultiGzDecoder::new(data), "gzip")?;
    Ok(out.out)
}

// ---------------------------------------------------------------------------------------------
// snappy

fn snappy_compress(data: &[u8]) -> CodecResult<Vec<u8>> {
    let blocks = data.len().div_ceil(XERIAL_BLOCK);
    // Worst case per block: 4-byte length + 32 + n + n/6 (snappy's bound).
    let mut out = Vec::with_capacity(XERIAL_HEADER_LEN + data.len() + data.len() / 6 + blocks * 36 + 64);
    out.extend_from_slice(&XERIAL_MAGIC);
    out.extend_from_slice(&XERIAL_VERSION.to_be_bytes());
    out.extend_from_slice(&XERIAL_COMPAT_VERSION.to_be_bytes());
    let mut enc = snap::raw::Encoder::new();
    for block in data.chunks(XERIAL_BLOCK) {
        let at = out.len();
        let room = snap::raw::max_compress_len(block.len());
        out.resize(at + 4 + room, 0);
        let n = enc
            .compress(block, &mut out[at + 4..])
            .map_err(|e| CodecError::Corrupt(format!("snappy: {e}")))?;
        out[at..at + 4].copy_from_slice(&(n as u32).to_be_bytes());
        out.truncate(at + 4 + n);
    }
    Ok(out)
}

/// Decompresses one raw snappy block onto the end of `out`, checking its declared length first.
fn snappy_block(dec: &mut snap::raw::Decoder, block: &[u8], out: &mut Bounded) -> CodecResult<()> {
    let n = snap::raw::decompress_len(block).map_err(|e| CodecError::Corrupt(format!("invalid snappy data: {e}")))?;
    out.reserve(n)?;
    let at = out.out.len();
    out.out.resize(at + n, 0);
    match dec.decompress(block, &mut out.out[at..]) {
        Ok(written) if written == n => Ok(()),
        Ok(written) => Err(CodecError::Corrupt(format!("snappy block declared {n} bytes, produced {written}"))),
        Err(e) => Err(CodecError::Corrupt(format!("invalid snappy data: {e}"))),
    }
}

fn snappy_decompress(data: &[u8], max: usize) -> CodecResult<Vec<u8>> {
    let mut dec = snap::raw::Decoder::new();
    let mut out = Bounded::new(max, 0);
    if !data.starts_with(&XERIAL_MAGIC) {
        snappy_block(&mut dec, data, &mut out)?;
        return Ok(out.out);
    }
    let mut pos = 0;
    while pos < data.len() {
        let rest = &data[pos..];
        // snappy-java reads a new stream header wherever one starts (concatenated streams).
        if rest.starts_with(&XERIAL_MAGIC) {
            if rest.len() < XERIAL_HEADER_LEN {
                return Err(CodecError::Corrupt("truncated xerial snappy header".into()));
            }
            pos += XERIAL_HEADER_LEN;
            continue;
        }
        if rest.len() < 4 {
            return Err(CodecError::Corrupt(format!("truncated xerial snappy block length ({} bytes)", rest.len())));
        }
        let len = i32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
        if len < 0 || len as usize > rest.len() - 4 {
            return Err(CodecError::Corrupt(format!(
                "xerial snappy block of {len} bytes exceeds the {} bytes left",
                rest.len() - 4
            )));
        }
        let block = &rest[4..4 + len as usize];
        snappy_block(&mut dec, block, &mut out)?;
        pos += 4 + len as usize;
    }
    Ok(out.out)
}

// ---------------------------------------------------------------------------------------------
// lz4

fn lz4_compress(data: &[u8]) -> CodecResult<Vec<u8>> {
    let info = lz4_flex::frame::FrameInfo::new()
        .block_size(lz4_flex::frame::BlockSize::Max64KB)
        .block_mode(lz4_flex::frame::BlockMode::Independent);
    let out = Vec::with_capacity(lz4_flex::block::get_maximum_output_size(data.len()) + 32);
    let mut enc = lz4_flex::frame::FrameEncoder::with_frame_info(info, out);
    enc.write_all(data).map_err(|e| CodecError::Corrupt(format!("lz4: {e}")))?;
    enc.finish().map_err(|e| CodecError::Corrupt(format!("lz4: {e}")))
}

/// A slice reader that remembers whether anyone asked for bytes past its end: lz4_flex treats
/// end of input where a block header should be as a clean end of frame, which would let a
/// truncated frame pass as a shorter one.
struct TrackedSlice<'a> {
    data: &'a [u8],
    pos: usize,
    starved: bool,
}

impl Read for TrackedSlice<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.data.len() - self.pos);
        if n == 0 && !buf.is_empty() {
            self.starved = true;
        }
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn lz4_decompress(data: &[u8], max: usize) -> CodecResult<Vec<u8>> {
    let mut out = Bounded::new(max, size_hint(data.len()));
    let mut input = TrackedSlice { data, pos: 0, starved: false };
    // Concatenated frames decode as one stream (the LZ4 frame format allows it); each frame must
    // end with its end mark.
    while input.pos < data.len() {
        let start = input.pos;
        let mut dec = lz4_flex::frame::FrameDecoder::new(&mut input);
        out.read_all(&mut dec, "lz4")?;
        drop(dec);
        if input.starved {
            return Err(CodecError::Corrupt("invalid lz4 data: truncated frame (no end mark)".into()));
        }
        if input.pos == start {
            return Err(CodecError::Corrupt("invalid lz4 data: no progress".into()));
        }
    }
    Ok(out.out)
}

// ---------------------------------------------------------------------------------------------
// zstd

fn zstd_compress(data: &[u8], level: i32) -> CodecResult<Vec<u8>> {
    let range = zstd::compression_level_range();
    if !range.contains(&level) {
        return Err(CodecError::Arg(format!(
            "zstd level must be {}..={}, got {level}",
            range.start(),
            range.end()
        )));
    }
    zstd::bulk::compress(data, level).map_err(|e| CodecError::Corrupt(format!("zstd: {e}")))
}

/// The largest zstd window we let a frame ask for: no larger than the output bound needs
/// (a window beyond the whole output is useless), at least 8 MiB (what levels up to 19 declare
/// when the content size is unknown), at most zstd's default limit of 128 MiB.
fn zstd_window_log(max: usize) -> u32 {
    let needed = usize::BITS - max.saturating_sub(1).leading_zeros();
    needed.clamp(23, 27)
}

fn zstd_decompress(data: &[u8], max: usize) -> CodecResult<Vec<u8>> {
    let mut dec = zstd::stream::read::Decoder::with_buffer(data)
        .map_err(|e| CodecError::Corrupt(format!("zstd: {e}")))?;
    dec.window_log_max(zstd_window_log(max))
        .map_err(|e| CodecError::Corrupt(format!("zstd: {e}")))?;
    let mut out = Bounded::new(max, size_hint(data.len()));
    out.read_all(dec, "zstd")?;
    Ok(out.out)
}

// ---------------------------------------------------------------------------------------------
// Entry points

fn compress_impl(codec: u32, data: &[u8], level: Option<i32>) -> CodecResult<Vec<u8>> {
    match codec {
        GZIP => gzip_compress(data, level.unwrap_or(DEFAULT_GZIP_LEVEL)),
        SNAPPY => snappy_compress(data),
        LZ4 => lz4_compress(data),
        ZSTD => zstd_compress(data, level.unwrap_or(DEFAULT_ZSTD_LEVEL)),
        _ => Err(CodecError::Arg(format!("unknown codec id {codec} (1 gzip, 2 snappy, 3 lz4, 4 zstd)"))),
    }
}

fn decompress_impl(codec: u32, data: &[u8], max: usize) -> CodecResult<Vec<u8>> {
    // No codec's stream is ever empty (each has at least a header); refuse it uniformly.
    if data.is_empty() && (GZIP..=ZSTD).contains(&codec) {
        return Err(CodecError::Corrupt(format!("invalid {} data: empty input", codec_name(codec))));
    }
    match codec {
        GZIP => gzip_decompress(data, max),
        SNAPPY => snappy_decompress(data, max),
        LZ4 => lz4_decompress(data, max),
        ZSTD => zstd_decompress(data, max),
        _ => Err(CodecError::Arg(format!("unknown codec id {codec} (1 gzip, 2 snappy, 3 lz4, 4 zstd)"))),
    }
}

/// Compresses `data` with codec `codec` (Kafka's attribute id). `level` applies to gzip (1-9,
/// default 6) and zstd (default 3); snappy and lz4 ignore it.
#[napi(js_name = "compress")]
pub fn compress_js(codec: u32, data: &[u8], level: Option<i32>) -> Result<Buffer> {
    Ok(Buffer::from(compress_impl(codec, data, level)?))
}

/// Decompresses `data`, failing (tag `LIMIT:`) as soon as the output would exceed `max_output`
/// bytes, and (tag `CORRUPT:`) on malformed input.
#[napi(js_name = "decompress")]
pub fn decompress_js(codec: u32, data: &[u8], max_output: f64) -> Result<Buffer> {
    if !(max_output >= 0.0) || max_output > (isize::MAX as f64) || max_output.fract() != 0.0 {
        return Err(CodecError::Arg(format!("maxOutputBytes must be a non-negative integer, got {max_output}")).into());
    }
    Ok(Buffer::from(decompress_impl(codec, data, max_output as usize)?))
}

/// The names of the codecs this build provides, by id.
#[napi(js_name = "codecNames")]
pub fn codec_names() -> Vec<String> {
    [GZIP, SNAPPY, LZ4, ZSTD].iter().map(|&c| codec_name(c).to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        for codec in [GZIP, SNAPPY, LZ4, ZSTD] {
            let c = compress_impl(codec, &data, None).ok().unwrap();
            let d = decompress_impl(codec, &c, data.len()).ok().unwrap();
            assert_eq!(d, data, "{}", codec_name(codec));
            assert!(matches!(decompress_impl(codec, &c, data.len() - 1), Err(CodecError::Limit(_))));
        }
    }
}
