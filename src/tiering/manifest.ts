/**
 * The per-partition tier manifest: which segments are in the object store. Format (msgpack):
 *
 *   { v: 1, topic, topicId, partition, revision,
 *     segments: [{ baseOffset, endOffset, size, indexSize, timeIndexSize,
 *                  maxTimestamp, offsetOfMaxTimestamp, uploadedAtMs, producerSnapshot? }, ...] }
 *
 * `endOffset` is one past the segment's last offset; `producerSnapshot` (absent in older manifests)
 * says that the producer-state snapshot as of `endOffset` was uploaded with the segment; segments are sorted and do not overlap
 * (normally each starts where the previous ends; a gap appears only when local data was deleted
 * while tiering was off for the topic). `revision` grows by one with every write.
 *
 * The local copy `<partition dir>/remote-log.manifest` is the truth; it is written crash-safely
 * (temp + fsync + rename + fsync dir). Invariant, kept by the writers (partition-tier.ts): a
 * segment is added only after its objects (three, plus its snapshot) are uploaded, and its objects are deleted only
 * after a manifest without it is written. So after any crash the manifest names only objects that
 * exist; objects it does not name are orphans, removed at the next start.
 * A copy is uploaded as `<prefix>/manifest` after each local write (for inspection and disaster
 * recovery by hand; never read back automatically).
 */
import * as fs from "node:fs";
import { join } from "node:path";
import { pack, unpack } from "msgpackr";
import { writeFileAtomic } from "../log/atomic-file.ts";

export const MANIFEST_FILE = "remote-log.manifest";

export interface RemoteSegment {
  baseOffset: number;
  endOffset: number;
  size: number;
  indexSize: number;
  timeIndexSize: number;
  maxTimestamp: number;
  offsetOfMaxTimestamp: number;
  uploadedAtMs: number;
  /** The `.snapshot` object (producer state as of endOffset) was uploaded with the segment. */
  producerSnapshot?: boolean;
}

export interface TierManifest {
  v: 1;
  topic: string;
  topicId: string;
  partition: number;
  revision: number;
  segments: RemoteSegment[];
}

export function emptyManifest(topic: string, topicId: string, partition: number): TierManifest {
  return { v: 1, topic, topicId, partition, revision: 0, segments: [] };
}

export function encodeManifest(m: TierManifest): Uint8Array {
  return pack(m);
}

const SEGMENT_FIELDS = [
  "baseOffset", "endOffset", "size", "indexSize", "timeIndexSize", "maxTimestamp", "offsetOfMaxTimestamp", "uploadedAtMs",
] as const;

/** Decodes and checks a manifest; throws on anything malformed (never trust a file blindly). */
export function decodeManifest(bytes: Uint8Array): TierManifest {
  const value: unknown = unpack(bytes);
  if (typeof value !== "object" || value === null) throw new Error("manifest: not a map");
  const o = value as Record<string, unknown>;
  if (o.v !== 1) throw new Error(`manifest: unknown version ${String(o.v)}`);
  if (typeof o.topic !== "string" || typeof o.topicId !== "string") throw new Error("manifest: bad topic");
  if (!isInt(o.partition) || !isInt(o.revision) || !Array.isArray(o.segments)) throw new Error("manifest: bad fields");
  const segments: RemoteSegment[] = [];
  let prevEnd = -1;
  for (const s of o.segments as unknown[]) {
    if (typeof s !== "object" || s === null) throw new Error("manifest: bad segment");
    const r = s as Record<string, unknown>;
    for (const f of SEGMENT_FIELDS) if (!isInt(r[f])) throw new Error(`manifest: segment field ${f} missing`);
    const seg = Object.fromEntries(SEGMENT_FIELDS.map((f) => [f, r[f] as number])) as unknown as RemoteSegment;
    if (r.producerSnapshot === true) seg.producerSnapshot = true;
    if (seg.endOffset <= seg.baseOffset) throw new Error(`manifest: empty segment ${seg.baseOffset}`);
    if (seg.baseOffset < prevEnd) throw new Error(`manifest: segments overlap at ${seg.baseOffset}`);
    prevEnd = seg.endOffset;
    segments.push(seg);
  }
  return { v: 1, topic: o.topic, topicId: o.topicId, partition: o.partition as number, revision: o.revision as number, segments };
}

export function readLocalManifest(partitionDir: string): TierManifest | null {
  const path = join(partitionDir, MANIFEST_FILE);
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
  return decodeManifest(bytes);
}

export function writeLocalManifest(partitionDir: string, m: TierManifest): Promise<void> {
  return writeFileAtomic(join(partitionDir, MANIFEST_FILE), encodeManifest(m));
}

function isInt(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v);
}
