//! Bunka's N-API addon. Keep this file thin: one module per job, each module
//! declares its own `#[napi]` exports (napi-derive registers them wherever
//! they live). Loaded from TypeScript only through `src/native/index.ts`.

mod crc;
mod codecs;
mod segment_io;
mod page_cache;
