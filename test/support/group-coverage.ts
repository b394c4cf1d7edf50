/**
 * What a group of consumers consumed, per partition and offset, from their JSON-line output
 * (`records` events with [partition, first, last, count] ranges, `commit` events with the next
 * offset per partition): every offset up to the highest consumed one must have been consumed, and
 * an offset consumed more than once is "explained" only when that many of its consumers never got
 * a commit covering it (their uncommitted window, where the next owner rightly starts again).
 */
import type { GroupMember } from "./group-members.ts";

export interface Coverage {
  /** Offsets covered without a gap, summed over partitions. */
  total: number;
  /** Extra deliveries of offsets consumed more than once. */
  duplicates: number;
  /** Offsets delivered more often than uncommitted windows explain. */
  unexplained: number;
}

export function groupCoverage(members: GroupMember[], partitions: number, recordsPerPartitionMax: number): Coverage {
  const seen = new Map<number, Uint16Array>();
  const uncommitted = new Map<number, Uint16Array>();
  const counts = (m: Map<number, Uint16Array>, p: number) => {
    let a = m.get(p);
    if (!a) m.set(p, (a = new Uint16Array(recordsPerPartitionMax)));
    return a;
  };
  for (const m of members) {
    // Ranges this member consumed and never covered by a later commit of its own.
    const pending = new Map<number, [number, number][]>();
    for (const line of m.lines) {
      if (line.event === "records") {
        for (const [p, first, last, count] of line.ranges as [number, number, number, number][]) {
          if (count !== last - first + 1) throw new Error(`${m.name}: partition ${p} poll ${first}..${last} holds ${count} records, not contiguous`);
          const s = counts(seen, p);
          for (let o = first; o <= last; o++) s[o]!++;
          const list = pending.get(p) ?? [];
          list.push([first, last]);
          pending.set(p, list);
        }
      } else if (line.event === "commit") {
        for (const [p, next] of Object.entries(line.offsets as Record<string, number>)) {
          pending.set(Number(p), (pending.get(Number(p)) ?? []).filter(([, last]) => last >= next));
        }
      }
    }
    for (const [p, ranges] of pending) {
      const u = counts(uncommitted, p);
      for (const [first, last] of ranges) for (let o = first; o <= last; o++) u[o]!++;
    }
  }
  const result: Coverage = { total: 0, duplicates: 0, unexplained: 0 };
  for (let p = 0; p < partitions; p++) {
    const s = seen.get(p);
    if (s === undefined) continue; // nothing consumed there; the caller's total check catches it
    let end = s.length;
    while (end > 0 && s[end - 1] === 0) end--;
    for (let o = 0; o < end; o++) {
      if (s[o] === 0) throw new Error(`partition ${p} offset ${o} was never consumed`);
      if (s[o]! > 1) {
        result.duplicates += s[o]! - 1;
        if (s[o]! - 1 > (uncommitted.get(p)?.[o] ?? 0)) result.unexplained++;
      }
    }
    result.total += end;
  }
  return result;
}
