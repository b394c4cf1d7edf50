/**
 * Compression codecs: the native addon (flate2/zlib-rs, snap, lz4_flex, zstd) vs Bun's built-in
 * gzip and zstd, on Kafka-like payloads: a v2 records section of ~1 KiB JSON-ish records, 64 KiB
 * and 1 MiB in total. snappy and lz4 have no JS/Bun alternative installed in this repository, so
 * they are reported native only.
 *
 *   bun bench/codecs.bench.ts
 *
 * All rows come from one run on the same buffers. MB/s is uncompressed bytes per second
 * (1 MB = 10^6 bytes) for both compress and decompress; "ratio" is uncompressed / compressed.
 * Levels: gzip 6 for both, zstd 3 for both (Kafka's defaults).
 */
import { loadavg } from "node:os";
import { Bench, type Task } from "tinybench";
import { Codec, compress, decompress } from "../src/native/index.ts";
import type { CompressionCodecId } from "../src/native/index.ts";
import { encodeRecords } from "../src/protocol/records.ts";
import type { KafkaRecord } from "../src/protocol/records.ts";

const enc = new TextEncoder();

/** ~1 KiB records: JSON with repeated field names, varying numbers and a random-ish token. */
function recordsSection(totalBytes: number): Uint8Array<ArrayBuffer> {
  const records: KafkaRecord[] = [];
  let size = 0;
  let x = 0x2545f491;
  for (let i = 0; size < totalBytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const token = (x >>> 0).toString(36).padStart(8, "0");
    const items = Array.from({ length: 6 }, (_, j) => `{"sku":"SKU-${(x >>> j) & 0xffff}","qty":${(i + j) % 9},"price":${((x >>> 3) % 10000) / 100}}`);
    const value = `{"orderId":"${token}-${i}","customer":{"id":${i * 7919},"tier":"${["gold", "silver", "bronze"][i % 3]}","region":"eu-west-${i % 4}"},"items":[${items.join(",")}],"note":"${"deliver to the back door please ".repeat(4)}","ts":${1_700_000_000_000 + i * 37}}`;
    const r: KafkaRecord = {
      attributes: 0,
      timestampDelta: i * 37,
      offsetDelta: i,
      key: enc.encode(`customer-${i % 997}`),
      value: enc.encode(value),
      headers: [{ key: enc.encode("source"), value: enc.encode("checkout") }],
    };
    records.push(r);
    size += value.length + 40;
  }
  const section = encodeRecords(records);
  return section.slice(0, Math.min(section.length, totalBytes)) as Uint8Array<ArrayBuffer>;
}

const SIZES: [string, number][] = [
  ["64 KiB", 64 * 1024],
  ["1 MiB", 1024 * 1024],
];
const CODECS: [string, CompressionCodecId][] = [
  ["gzip", Codec.gzip],
  ["snappy", Codec.snappy],
  ["lz4", Codec.lz4],
  ["zstd", Codec.zstd],
];

let sink = 0;
const bench = new Bench({ name: "codecs", time: 500, warmupTime: 100 });
const ratios = new Map<string, number>();
const inputBytes = new Map<string, number>();

for (const [label, n] of SIZES) {
  const data = recordsSection(n);
  for (const [name, id] of CODECS) {
    const packed = compress(id, data);
    const back = decompress(id, packed, data.length);
    if (Buffer.compare(Buffer.from(back), Buffer.from(data)) !== 0) throw new Error(`${name} round trip failed`);
    ratios.set(`native ${name} ${label}`, data.length / packed.length);
    inputBytes.set(label, data.length);
    bench
      .add(`native ${name} compress ${label}`, () => {
        sink ^= compress(id, data).length;
      })
      .add(`native ${name} decompress ${label}`, () => {
        sink ^= decompress(id, packed, data.length).length;
      });
  }
  const gz = Bun.gzipSync(data, { level: 6 });
  ratios.set(`bun gzip ${label}`, data.length / gz.length);
  const zs = Bun.zstdCompressSync(data, { level: 3 });
  ratios.set(`bun zstd ${label}`, data.length / zs.length);
  bench
    .add(`bun gzip compress ${label}`, () => {
      sink ^= Bun.gzipSync(data, { level: 6 }).length;
    })
    .add(`bun gzip decompress ${label}`, () => {
      sink ^= Bun.gunzipSync(gz).length;
    })
    .add(`bun zstd compress ${label}`, () => {
      sink ^= Bun.zstdCompressSync(data, { level: 3 }).length;
    })
    .add(`bun zstd decompress ${label}`, () => {
      sink ^= Bun.zstdDecompressSync(zs).length;
    });
}

await bench.run();

function meanMs(task: Task | undefined): number {
  const r = task?.result;
  if (!r || !("period" in r) || r.period <= 0) return Number.NaN;
  return r.period;
}

const byName = new Map(bench.tasks.map((t) => [t.name, t]));
const fmt = (x: number, digits = 0): string =>
  Number.isFinite(x) ? x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }) : "n/a";

const load = loadavg().map((l) => l.toFixed(2)).join(" ");
console.log(`Codecs, Bun ${Bun.version} on ${process.platform}/${process.arch}; MB/s of uncompressed bytes (10^6 B); load average ${load}`);
console.log("");
console.log("| codec | payload | ratio | native compress MB/s | Bun compress MB/s | native decompress MB/s | Bun decompress MB/s | native µs/op (c / d) |");
console.log("|---|---|---:|---:|---:|---:|---:|---:|");
for (const [label] of SIZES) {
  const bytes = inputBytes.get(label) as number;
  const mbps = (ms: number): number => bytes / 1e6 / (ms / 1000);
  for (const [name] of CODECS) {
    const nc = meanMs(byName.get(`native ${name} compress ${label}`));
    const nd = meanMs(byName.get(`native ${name} decompress ${label}`));
    const hasBun = name === "gzip" || name === "zstd";
    const bc = hasBun ? meanMs(byName.get(`bun ${name} compress ${label}`)) : Number.NaN;
    const bd = hasBun ? meanMs(byName.get(`bun ${name} decompress ${label}`)) : Number.NaN;
    const ratio = ratios.get(`native ${name} ${label}`) as number;
    const bunRatio = hasBun ? ` (Bun ${fmt(ratios.get(`bun ${name} ${label}`) as number, 2)})` : "";
    console.log(
      `| ${name} | ${label} | ${fmt(ratio, 2)}${bunRatio} | ${fmt(mbps(nc))} | ${hasBun ? fmt(mbps(bc)) : "—"} | ${fmt(mbps(nd))} | ${hasBun ? fmt(mbps(bd)) : "—"} | ${fmt(nc * 1000)} / ${fmt(nd * 1000)} |`,
    );
  }
}
if (sink === 0.5) console.log(sink);
