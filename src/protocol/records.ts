/**
 * The records section of a Kafka v2 record batch (what follows the 61-byte header, after
 * decompression when the batch is compressed). The broker's hot path never looks inside; this
 * module serves recompression and deep validation.
 *
 * Each record (all varints zig-zag encoded, Kafka's ByteUtils.readVarint/readVarlong):
 *   length          varint   bytes of the record after this field
 *   attributes      int8     unused in v2, written 0
 *   timestampDelta  varlong  relative to the batch's baseTimestamp
 *   offsetDelta     varint   relative to the batch's baseOffset
 *   keyLength       varint   -1 = null key
 *   key             bytes
 *   valueLength     varint   -1 = null value
 *   value           bytes
 *   headerCount     varint   >= 0
 *   headers         [headerKeyLength varint >= 0, headerKey utf8, headerValueLength varint (-1 = null), value]
 *
 * Decoding is strict and bounded: every length is checked against the bytes left (in the record
 * and in the section) before it is used, counts are checked against what the bytes could hold,
 * a record must consume exactly its declared length, and varints may not run past 5 bytes
 * (varint) or 10 bytes (varlong). Results are views into the input: nothing is copied.
 */

export interface RecordHeader {
  key: Uint8Array;
  value: Uint8Array | null;
}

export interface KafkaRecord {
  attributes: number;
  timestampDelta: number;
  offsetDelta: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: RecordHeader[];
}

/** What a walk over a records section found, without materialising the records. */
export interface RecordsSummary {
  count: number;
  /** Largest timestampDelta seen (0 for no records). */
  maxTimestampDelta: number;
  /** Index of the first record whose offsetDelta is not its index; -1 when all are contiguous. */
  firstBadOffsetDelta: number;
}

export type RecordsResult<T> = { ok: true; value: T } | { ok: false; message: string };

/** A malformed section: thrown internally, returned to callers as { ok: false }. */
class RecordsFormatError extends Error {}

const MAX_VARINT_BYTES = 5;
const MAX_VARLONG_BYTES = 10;
/** The smallest possible record: length(1) attributes(1) ts(1) offset(1) key(1) value(1) headers(1). */
const MIN_RECORD_BYTES = 7;
/** The smallest possible header: key length(1) + value length(1). */
const MIN_HEADER_BYTES = 2;

class Cursor {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    public end: number,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  int8(): number {
    if (this.pos >= this.end) throw new RecordsFormatError("record truncated (attributes)");
    const b = this.buf[this.pos++] as number;
    return b > 127 ? b - 256 : b;
  }

  /** Zig-zag varint that must fit an int32. */
  varint(what: string): number {
    let raw = 0;
    let shift = 0;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      if (this.pos >= this.end) throw new RecordsFormatError(`record truncated (${what})`);
      const b = this.buf[this.pos++] as number;
      raw += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) {
        if (raw > 0xffffffff) throw new RecordsFormatError(`varint ${what} overflows 32 bits`);
        return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
      }
      shift += 7;
    }
    throw new RecordsFormatError(`varint ${what} longer than ${MAX_VARINT_BYTES} bytes`);
  }

  /** Zig-zag varlong; refused when its value is not a safe JS integer (no real timestamp delta is). */
  varlong(what: string): number {
    let raw = 0;
    let shift = 0;
    for (let i = 0; i < MAX_VARLONG_BYTES; i++) {
      if (this.pos >= this.end) throw new RecordsFormatError(`record truncated (${what})`);
      const b = this.buf[this.pos++] as number;
      raw += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) {
        if (raw > Number.MAX_SAFE_INTEGER) throw new RecordsFormatError(`varlong ${what} beyond 2^53`);
        return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
      }
      shift += 7;
    }
    throw new RecordsFormatError(`varlong ${what} longer than ${MAX_VARLONG_BYTES} bytes`);
  }

  /** Length-prefixed bytes; -1 = null when `nullable`. Returns a view. */
  bytes(what: string, nullable: boolean): Uint8Array | null {
    const len = this.varint(`${what} length`);
    if (len === -1 && nullable) return null;
    if (len < 0) throw new RecordsFormatError(`invalid ${what} length ${len}`);
    if (len > this.remaining) {
      throw new RecordsFormatError(`${what} of ${len} bytes exceeds the ${this.remaining} bytes left in the record`);
    }
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  /** Skips length-prefixed bytes (same checks as `bytes`). */
  skipBytes(what: string, nullable: boolean): void {
    const len = this.varint(`${what} length`);
    if (len === -1 && nullable) return;
    if (len < 0) throw new RecordsFormatError(`invalid ${what} length ${len}`);
    if (len > this.remaining) {
      throw new RecordsFormatError(`${what} of ${len} bytes exceeds the ${this.remaining} bytes left in the record`);
    }
    this.pos += len;
  }
}

/**
 * Walks one record starting at `c.pos`; with `out` it also collects the record's fields.
 * Leaves `c.pos` at the next record.
 */
function walkRecord(c: Cursor, sectionEnd: number, out: KafkaRecord[] | null): { timestampDelta: number; offsetDelta: number } {
  c.end = sectionEnd;
  const length = c.varint("record length");
  if (length < MIN_RECORD_BYTES - 1) throw new RecordsFormatError(`invalid record length ${length}`);
  if (length > c.remaining) {
    throw new RecordsFormatError(`record of ${length} bytes exceeds the ${c.remaining} bytes left in the batch`);
  }
  const recordEnd = c.pos + length;
  c.end = recordEnd;
  const attributes = c.int8();
  const timestampDelta = c.varlong("timestamp delta");
  const offsetDelta = c.varint("offset delta");
  let key: Uint8Array | null = null;
  let value: Uint8Array | null = null;
  const headers: RecordHeader[] = [];
  if (out !== null) {
    key = c.bytes("key", true);
    value = c.bytes("value", true);
  } else {
    c.skipBytes("key", true);
    c.skipBytes("value", true);
  }
  const headerCount = c.varint("header count");
  if (headerCount < 0) throw new RecordsFormatError(`invalid number of record headers ${headerCount}`);
  if (headerCount * MIN_HEADER_BYTES > c.remaining) {
    throw new RecordsFormatError(`${headerCount} headers cannot fit in the ${c.remaining} bytes left in the record`);
  }
  for (let h = 0; h < headerCount; h++) {
    if (out !== null) {
      const hk = c.bytes("header key", false) as Uint8Array;
      const hv = c.bytes("header value", true);
      headers.push({ key: hk, value: hv });
    } else {
      c.skipBytes("header key", false);
      c.skipBytes("header value", true);
    }
  }
  if (c.pos !== recordEnd) {
    throw new RecordsFormatError(
      `invalid record size: expected to read ${length} bytes in the record payload, but read ${length - (recordEnd - c.pos)}`,
    );
  }
  if (out !== null) out.push({ attributes, timestampDelta, offsetDelta, key, value, headers });
  return { timestampDelta, offsetDelta };
}

function walk(section: Uint8Array, expectedCount: number, out: KafkaRecord[] | null): RecordsResult<RecordsSummary> {
  if (!Number.isInteger(expectedCount) || expectedCount < 0) {
    return { ok: false, message: `invalid expected record count ${expectedCount}` };
  }
  // A count the bytes cannot hold is refused before any loop runs.
  if (expectedCount * MIN_RECORD_BYTES > section.length) {
    return {
      ok: false,
      message: `batch declares ${expectedCount} records but its ${section.length} bytes of records cannot hold them`,
    };
  }
  const c = new Cursor(section, 0, section.length);
  let count = 0;
  let maxTimestampDelta = 0;
  let firstBadOffsetDelta = -1;
  try {
    while (c.pos < section.length) {
      if (count >= expectedCount) {
        return {
          ok: false,
          message: `incorrect declared batch size: ${section.length - c.pos} bytes remain after the ${expectedCount} declared records`,
        };
      }
      const r = walkRecord(c, section.length, out);
      if (count === 0 || r.timestampDelta > maxTimestampDelta) maxTimestampDelta = r.timestampDelta;
      if (firstBadOffsetDelta < 0 && r.offsetDelta !== count) firstBadOffsetDelta = count;
      count++;
    }
  } catch (e) {
    if (e instanceof RecordsFormatError) return { ok: false, message: `record ${count}: ${e.message}` };
    throw e;
  }
  if (count !== expectedCount) {
    return { ok: false, message: `batch declares ${expectedCount} records but holds ${count}` };
  }
  return { ok: true, value: { count, maxTimestampDelta, firstBadOffsetDelta } };
}

/**
 * Checks a records section holds exactly `expectedCount` well-formed records, and reports their
 * largest timestamp delta and whether offset deltas run 0, 1, 2... Allocates nothing per record.
 */
export function scanRecords(section: Uint8Array, expectedCount: number): RecordsResult<RecordsSummary> {
  return walk(section, expectedCount, null);
}

/** Decodes a records section into records whose byte fields are views into `section`. */
export function decodeRecords(section: Uint8Array, expectedCount: number): RecordsResult<KafkaRecord[]> {
  const records: KafkaRecord[] = [];
  const r = walk(section, expectedCount, records);
  return r.ok ? { ok: true, value: records } : r;
}

// --- encoding ----------------------------------------------------------------------------------

function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

function varintSize(v: number): number {
  let z = zigzag(v);
  let n = 1;
  while (z >= 0x80) {
    z = Math.floor(z / 0x80);
    n++;
  }
  return n;
}

function bytesSize(b: Uint8Array | null): number {
  return b === null ? 1 : varintSize(b.length) + b.length;
}

function bodySize(r: KafkaRecord): number {
  let n = 1 + varintSize(r.timestampDelta) + varintSize(r.offsetDelta) + bytesSize(r.key) + bytesSize(r.value);
  n += varintSize(r.headers.length);
  for (const h of r.headers) n += bytesSize(h.key) + bytesSize(h.value);
  return n;
}

function checkInt32(v: number, what: string): void {
  if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) throw new RangeError(`${what} ${v} is not an int32`);
}

/** Encodes records as a v2 records section (the inverse of decodeRecords). */
export function encodeRecords(records: readonly KafkaRecord[]): Uint8Array {
  const sizes: number[] = [];
  let total = 0;
  for (const r of records) {
    checkInt32(r.offsetDelta, "offsetDelta");
    if (!Number.isSafeInteger(r.timestampDelta)) throw new RangeError(`timestampDelta ${r.timestampDelta} is not a safe integer`);
    const size = bodySize(r);
    sizes.push(size);
    total += varintSize(size) + size;
  }
  const out = new Uint8Array(total);
  let pos = 0;
  const varint = (v: number): void => {
    let z = zigzag(v);
    while (z >= 0x80) {
      out[pos++] = (z % 0x80) | 0x80;
      z = Math.floor(z / 0x80);
    }
    out[pos++] = z;
  };
  const bytes = (b: Uint8Array | null): void => {
    if (b === null) {
      varint(-1);
      return;
    }
    varint(b.length);
    out.set(b, pos);
    pos += b.length;
  };
  records.forEach((r, i) => {
    varint(sizes[i] as number);
    out[pos++] = r.attributes & 0xff;
    varint(r.timestampDelta);
    varint(r.offsetDelta);
    bytes(r.key);
    bytes(r.value);
    varint(r.headers.length);
    for (const h of r.headers) {
      bytes(h.key);
      bytes(h.value);
    }
  });
  return out;
}
