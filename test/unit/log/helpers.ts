import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "bun:test";
import type { LogConfig } from "../../../src/log/log-config.ts";
import { trackTempDir } from "../../support/temp-dirs.ts";

const dirs: string[] = [];

/** A fresh temp directory removed after each test. */
export function tempDir(): string {
  const d = trackTempDir(mkdtempSync(join(tmpdir(), "bunka-log-")));
  dirs.push(d);
  return join(d, "topic-0");
}

/** The path of a first segment log file in a fresh, existing temp partition directory. */
export function freshSegmentPath(): string {
  const dir = tempDir();
  mkdirSync(dir, { recursive: true });
  return join(dir, "00000000000000000000.log");
}

/** How many of this process's descriptors are open on `path`. */
export function openDescriptors(path: string): number {
  let n = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) n++;
    } catch {
      // closed while listing
    }
  }
  return n;
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

export function config(overrides: Partial<LogConfig> = {}): LogConfig {
  return {
    segmentBytes: 1 << 20,
    segmentMs: 7 * 24 * 3600 * 1000,
    segmentJitterMs: 0,
    retentionMs: -1,
    retentionBytes: -1,
    indexIntervalBytes: 4096,
    maxMessageBytes: 1 << 20,
    messageTimestampType: "CreateTime",
    flushIntervalMessages: null,
    flushIntervalMs: null,
    fileDeleteDelayMs: 0,
    ...overrides,
  };
}
