// kcat (librdkafka) against the broker: for each compression codec, produce 10,000
// keyed records with headers from a file, consume them back from the beginning and
// check every byte: keys, values, headers, per-partition offsets and order.
//
// kcat can't create topics; we create them with kafkajs' admin client (3 partitions)
// rather than rely on auto-creation.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestBroker, type BrokerHandle } from "../support/broker.ts";
import { createTopic, kcat } from "../support/tools.ts";

const RECORDS = 10_000;
const PARTITIONS = 3;
const CODECS = ["none", "gzip", "snappy", "lz4", "zstd"] as const;

let broker: BrokerHandle;
let workDir: string;

beforeAll(async () => {
  broker = await startTestBroker();
  workDir = mkdtempSync(join(tmpdir(), "bunka-kcat-"));
}, 120_000);

afterAll(async () => {
  await broker?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
}, 60_000);

// Deterministic values: printable ASCII plus some multi-byte UTF-8, never tab or
// newline (kcat's field and record delimiters here), lengths 1..1500 bytes-ish,
// some long compressible runs so the codecs have something to do.
const ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
const WIDE = ["é", "ß", "日本", "ü", "€", "🙂"];
function makeValue(seq: number): string {
  let x = (seq + 1) * 2654435761;
  const next = () => {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    return x;
  };
  const len = 1 + (next() % 1500);
  let s = `${seq}:`;
  while (s.length < len) {
    const r = next();
    if (r % 97 === 0) s += WIDE[r % WIDE.length];
    else if (r % 13 === 0) s += "x".repeat(r % 40);
    else s += ALPHABET[r % ALPHABET.length];
  }
  return s;
}

interface Rec {
  key: string;
  value: string;
}

describe("kcat round trip", () => {
  for (const codec of CODECS) {
    test(`${RECORDS} records, compression.codec=${codec}`, async () => {
      const topic = `kcat-${codec}-${Date.now()}`;
      await createTopic(broker.bootstrap, topic, PARTITIONS);

      const input: Rec[] = [];
      for (let i = 0; i < RECORDS; i++) input.push({ key: `key-${codec}-${i}`, value: makeValue(i) });
      const inputText = input.map((r) => `${r.key}\t${r.value}\n`).join("");
      const file = join(workDir, `${topic}.txt`);
      writeFileSync(file, inputText);
      const headers = [`codec=${codec}`, "trace=abc-123", "kv=a=b"];

      const produced = await kcat(
        broker.bootstrap,
        ["-P", "-t", topic, "-K", "\\t", ...headers.flatMap((h) => ["-H", h]), "-X", `compression.codec=${codec}`, "-l", file],
        { timeoutMs: 60_000 },
      );
      expect(produced.stderr).not.toContain("ERROR");

      const consumed = await kcat(
        broker.bootstrap,
        ["-C", "-t", topic, "-e", "-o", "beginning", "-q", "-f", "%p\\t%o\\t%k\\t%h\\t%S\\t%s\\n"],
        { timeoutMs: 60_000 },
      );
      const lines = consumed.stdout.split("\n");
      expect(lines.pop()).toBe(""); // output ends with a newline
      expect(lines.length).toBe(RECORDS);

      const bySeq: (Rec | undefined)[] = new Array(RECORDS);
      const lastOffset = new Map<number, number>();
      const lastSeq = new Map<number, number>();
      for (const line of lines) {
        const f = line.split("\t");
        expect(f.length).toBe(6);
        const [p, o, key, hdrs, size, value] = f as [string, string, string, string, string, string];
        const partition = Number(p);
        const offset = Number(o);
        expect(partition).toBeGreaterThanOrEqual(0);
        expect(partition).toBeLessThan(PARTITIONS);
        // Offsets in a partition are dense from 0 and arrive in order.
        expect(offset).toBe((lastOffset.get(partition) ?? -1) + 1);
        lastOffset.set(partition, offset);
        expect(hdrs).toBe(headers.join(","));
        expect(Number(size)).toBe(Buffer.byteLength(value));
        const m = /^key-[a-z0-9]+-(\d+)$/.exec(key);
        expect(m).not.toBeNull();
        const seq = Number(m![1]);
        expect(bySeq[seq]).toBeUndefined();
        // Producer order is kept within a partition.
        expect(seq).toBeGreaterThan(lastSeq.get(partition) ?? -1);
        lastSeq.set(partition, seq);
        bySeq[seq] = { key, value };
      }
      // Byte-identical: the records, put back in produce order, reproduce the input file.
      const roundTrip = bySeq.map((r) => `${r!.key}\t${r!.value}\n`).join("");
      expect(Buffer.from(roundTrip).equals(Buffer.from(inputText))).toBe(true);
      // Keyed records spread over more than one partition.
      expect(lastOffset.size).toBeGreaterThan(1);
    }, 60_000);
  }
});
