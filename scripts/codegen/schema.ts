/**
 * Loading and modelling Apache Kafka's JSON message schemas.
 *
 * Versions are modelled as bit masks over [0, 30]: bit v set = present in v.
 */

export interface FieldSpec {
  name: string;
  type: string;
  versions: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  default?: string | number | boolean;
  fields?: FieldSpec[];
  flexibleVersions?: string;
  about?: string;
  ignorable?: boolean;
  mapKey?: boolean;
  entityType?: string;
  zeroCopy?: boolean;
}

export interface MessageSpec {
  apiKey?: number;
  type: "request" | "response" | "header" | "data" | string;
  name: string;
  validVersions: string;
  flexibleVersions: string;
  fields: FieldSpec[];
  commonStructs?: { name: string; versions: string; fields: FieldSpec[] }[];
  listeners?: string[];
  latestVersionUnstable?: boolean;
}

/** Remove `//` line comments outside of JSON strings. */
export function stripComments(src: string): string {
  let out = "";
  let inStr = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (inStr) {
      out += c;
      if (c === "\\") {
        i++;
        if (i < src.length) out += src[i];
      } else if (c === '"') inStr = false;
    } else if (c === '"') {
      inStr = true;
      out += c;
    } else if (c === "/" && src[i + 1] === "/") {
      while (i < src.length && src[i] !== "\n") i++;
      out += "\n";
    } else out += c;
  }
  return out;
}

export function parseSchema(src: string): MessageSpec {
  return JSON.parse(stripComments(src)) as MessageSpec;
}

export const MAX_VERSION_BITS = 30;

/** Parse "none", "3", "1-4", "9+" into [lo, hi] (hi = Infinity for open ranges); null for "none". */
export function parseRange(spec: string): [number, number] | null {
  const s = spec.trim();
  if (s === "none" || s === "") return null;
  if (s.endsWith("+")) return [Number(s.slice(0, -1)), Infinity];
  const dash = s.indexOf("-");
  if (dash >= 0) return [Number(s.slice(0, dash)), Number(s.slice(dash + 1))];
  const n = Number(s);
  return [n, n];
}

export function rangeMask(spec: string | undefined, cap: number): number {
  if (spec === undefined) return 0;
  const r = parseRange(spec);
  if (r === null) return 0;
  let m = 0;
  const hi = Math.min(r[1], cap);
  for (let v = r[0]; v <= hi; v++) m |= 1 << v;
  return m;
}

export function maskMin(m: number): number {
  for (let v = 0; v <= MAX_VERSION_BITS; v++) if (m & (1 << v)) return v;
  return -1;
}

export function maskMax(m: number): number {
  for (let v = MAX_VERSION_BITS; v >= 0; v--) if (m & (1 << v)) return v;
  return -1;
}

export function lowerFirst(s: string): string {
  return s.length === 0 ? s : s[0]!.toLowerCase() + s.slice(1);
}

/** "ApiVersionsRequest" -> ["Api", "Versions", "Request"] */
function words(name: string): string[] {
  return name.match(/[A-Z]+(?![a-z])|[A-Z][a-z0-9]*|[a-z0-9]+/g) ?? [name];
}

export function kebab(name: string): string {
  return words(name)
    .map((w) => w.toLowerCase())
    .join("-");
}

export function screamingSnake(name: string): string {
  return words(name)
    .map((w) => w.toUpperCase())
    .join("_");
}
