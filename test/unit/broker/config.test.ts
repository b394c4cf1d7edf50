import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseProperties } from "../../../src/config/properties.ts";
import { ConfigError, buildBrokerConfig, loadBrokerConfig, parseServerArgs } from "../../../src/config/broker-config.ts";
import { effectiveTopicConfig, validateTopicConfig } from "../../../src/config/topic-config.ts";
import { toLogConfig } from "../../../src/broker/topic-manager.ts";
import { typedTopicConfig } from "../../../src/config/topic-config.ts";

describe("properties parser", () => {
  test("comments, separators, continuations and escapes", () => {
    const text = ["# comment", "! also comment", "a=1", "b : 2", "c 3", "  d=x\\", "    y", "e=tab\\there", "f=\\u0041", "g=", "h\\=k=v"].join("\n");
    const map = Object.fromEntries(parseProperties(text).map((p) => [p.key, p.value]));
    expect(map).toEqual({ a: "1", b: "2", c: "3", d: "xy", e: "tab\there", f: "A", g: "", "h=k": "v" });
  });
});

describe("broker config", () => {
  test("defaults follow Kafka, with a loopback listener and ./data", () => {
    const c = buildBrokerConfig(new Map());
    expect(c.listeners).toEqual([{ name: "PLAINTEXT", host: "127.0.0.1", port: 9092 }]);
    expect(c.dataDir).toBe("./data");
    expect(c.numPartitions).toBe(1);
    expect(c.autoCreateTopics).toBe(true);
    expect(c.socketRequestMaxBytes).toBe(104857600);
  });

  test("file then overrides, override wins", () => {
    const dir = mkdtempSync(join(tmpdir(), "bunka-cfg-"));
    const file = join(dir, "server.properties");
    writeFileSync(file, "num.partitions=3\nlog.dirs=/tmp/x\nlisteners=PLAINTEXT://127.0.0.1:9999\n");
    const c = loadBrokerConfig(parseServerArgs([file, "--override", "num.partitions=5"]));
    expect(c.numPartitions).toBe(5);
    expect(c.dataDir).toBe("/tmp/x");
    expect(c.listeners[0]!.port).toBe(9999);
    rmSync(dir, { recursive: true, force: true });
  });

  test("unknown keys are reported, ignored Kafka keys are named as such", () => {
    const c = buildBrokerConfig(new Map([["no.such.key", "1"], ["num.network.threads", "3"]]));
    expect(c.warnings).toEqual(["unknown config no.such.key; ignored", "config num.network.threads has no effect on a single-node broker; ignored"]);
  });

  test("invalid values refuse to start with a clear message", () => {
    expect(() => buildBrokerConfig(new Map([["num.partitions", "zero"]]))).toThrow(ConfigError);
    expect(() => buildBrokerConfig(new Map([["num.partitions", "0"]]))).toThrow(/num.partitions: Value must be at least 1/);
    expect(() => buildBrokerConfig(new Map([["auto.create.topics.enable", "yes"]]))).toThrow(/true or false/);
    expect(() => buildBrokerConfig(new Map([["listeners", "localhost:9092"]]))).toThrow(/NAME:\/\/host:port/);
    expect(() => buildBrokerConfig(new Map([["log.dirs", "/a,/b"]]))).toThrow(/exactly one directory/);
    expect(() => buildBrokerConfig(new Map([["log.retention.ms", "9223372036854775808"]]))).toThrow(/LONG/);
    expect(() => parseServerArgs(["--bogus"])).toThrow(/Unknown option/);
    expect(() => parseServerArgs(["a.properties", "b.properties"])).toThrow(/Only one/);
  });
});

describe("topic config", () => {
  test("synonyms: topic override, then broker key (scaled), then default", () => {
    const broker = new Map([["log.retention.hours", "2"]]);
    const byName = (o: Record<string, string>) => new Map(effectiveTopicConfig(o, broker).map((e) => [e.name, e]));
    expect(byName({}).get("retention.ms")).toMatchObject({ value: String(2 * 3_600_000), source: 4 });
    expect(byName({ "retention.ms": "5" }).get("retention.ms")).toMatchObject({ value: "5", source: 1 });
    expect(byName({}).get("segment.bytes")).toMatchObject({ value: "1073741824", source: 5 });
  });

  test("validation uses Kafka's bounds and names", () => {
    expect(validateTopicConfig("retention.ms", "-1")).toBeNull();
    expect(validateTopicConfig("retention.ms", "-3")).toMatch(/at least -1/);
    expect(validateTopicConfig("cleanup.policy", "compact")).toMatch(/one of/);
    expect(validateTopicConfig("compression.type", "brotli")).toMatch(/one of/);
    expect(validateTopicConfig("bogus", "1")).toMatch(/Unknown topic config/);
  });

  test("flush settings: defaults mean durable mode, finite values select periodic flushing", () => {
    const durable = toLogConfig(typedTopicConfig(effectiveTopicConfig({}, new Map())));
    expect(durable.flushIntervalMessages).toBeNull();
    expect(durable.flushIntervalMs).toBeNull();
    const periodic = toLogConfig(typedTopicConfig(effectiveTopicConfig({}, new Map([["log.flush.interval.ms", "1000"]]))));
    expect(periodic.flushIntervalMs).toBe(1000);
  });
});
