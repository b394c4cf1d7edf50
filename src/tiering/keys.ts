/**
 * Object names in the store. Everything of one broker lives under a root prefix (by default its
 * cluster id, so brokers can share a bucket), then one folder per partition named by topic name AND
 * topic id (a re-created topic of the same name never meets the old one's objects):
 *
 *   <root>/<topic>-<topicId>/<partition>/00000000000000001234.log        segment data, as on disk
 *   <root>/<topic>-<topicId>/<partition>/00000000000000001234.index      its offset index
 *   <root>/<topic>-<topicId>/<partition>/00000000000000001234.timeindex  its time index
 *   <root>/<topic>-<topicId>/<partition>/00000000000000001234.snapshot   producer state at its end
 *   <root>/<topic>-<topicId>/<partition>/manifest                        copy of the manifest
 *
 * Segment names are deterministic (base offset), so a retried upload rewrites the same objects.
 */
import { offsetFileStem } from "../log/file-names.ts";

export type SegmentFileKind = "log" | "index" | "timeindex";
export const SEGMENT_FILE_KINDS: readonly SegmentFileKind[] = ["log", "index", "timeindex"];
export const MANIFEST_OBJECT = "manifest";

export function rootPrefix(root: string): string {
  const trimmed = root.replace(/^\/+|\/+$/g, "");
  return trimmed === "" ? "" : `${trimmed}/`;
}

export function topicFolder(root: string, topic: string, topicId: string): string {
  return `${rootPrefix(root)}${topic}-${topicId}/`;
}

export function partitionPrefix(root: string, topic: string, topicId: string, partition: number): string {
  return `${topicFolder(root, topic, topicId)}${partition}/`;
}

export function segmentKey(prefix: string, baseOffset: number, kind: SegmentFileKind): string {
  return `${prefix}${offsetFileStem(baseOffset)}.${kind}`;
}

/** The producer-state snapshot uploaded with a segment: the state as of the segment's end offset. */
export function snapshotKey(prefix: string, baseOffset: number): string {
  return `${prefix}${offsetFileStem(baseOffset)}.snapshot`;
}

export function manifestKey(prefix: string): string {
  return prefix + MANIFEST_OBJECT;
}
