/**
 * Parser for Java `.properties` files, the format Kafka's server.properties uses.
 * Supports `#`/`!` comments, `=`/`:`/whitespace separators, backslash line continuations
 * and the usual escapes (`\t`, `\n`, `\uXXXX`, escaped separators).
 */
export interface PropertyLine {
  key: string;
  value: string;
  line: number;
}

export function parseProperties(text: string): PropertyLine[] {
  const out: PropertyLine[] = [];
  const physical = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < physical.length; i++) {
    const startLine = i + 1;
    let logical = stripLeadingWhitespace(physical[i] ?? "");
    if (logical === "" || logical.startsWith("#") || logical.startsWith("!")) continue;
    // A line ending in an odd number of backslashes continues on the next line.
    while (endsWithContinuation(logical) && i + 1 < physical.length) {
      logical = logical.slice(0, -1) + stripLeadingWhitespace(physical[++i] ?? "");
    }
    if (endsWithContinuation(logical)) logical = logical.slice(0, -1);
    const { key, value } = splitKeyValue(logical);
    out.push({ key: unescape(key), value: unescape(value), line: startLine });
  }
  return out;
}

function stripLeadingWhitespace(s: string): string {
  return s.replace(/^[ \t\f]+/, "");
}

function endsWithContinuation(s: string): boolean {
  let n = 0;
  for (let i = s.length - 1; i >= 0 && s[i] === "\\"; i--) n++;
  return n % 2 === 1;
}

function splitKeyValue(line: string): { key: string; value: string } {
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === "\\") {
      i += 2;
      continue;
    }
    if (c === "=" || c === ":" || c === " " || c === "\t" || c === "\f") break;
    i++;
  }
  const key = line.slice(0, i);
  let j = i;
  while (j < line.length && (line[j] === " " || line[j] === "\t" || line[j] === "\f")) j++;
  if (j < line.length && (line[j] === "=" || line[j] === ":")) j++;
  while (j < line.length && (line[j] === " " || line[j] === "\t" || line[j] === "\f")) j++;
  return { key, value: line.slice(j) };
}

function unescape(s: string): string {
  if (!s.includes("\\")) return s;
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== "\\" || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const n = s[++i]!;
    if (n === "t") out += "\t";
    else if (n === "n") out += "\n";
    else if (n === "r") out += "\r";
    else if (n === "f") out += "\f";
    else if (n === "u" && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 1, i + 5))) {
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 5), 16));
      i += 4;
    } else out += n;
  }
  return out;
}
