/**
 * Temp directories of unit tests, removed when the run ends (test/support/preload.ts). Helpers also
 * remove theirs after each test, but an afterEach at the top of a shared module binds only to the
 * first test file that imports it, and bun test runs no process exit hooks.
 */
import { rmSync } from "node:fs";

const REGISTRY = Symbol.for("bunka.test.tempDirs");
const registry = ((globalThis as Record<symbol, unknown>)[REGISTRY] ??= new Set<string>()) as Set<string>;

export function trackTempDir(path: string): string {
  registry.add(path);
  return path;
}

export function removeTrackedTempDirs(): void {
  for (const d of registry) rmSync(d, { recursive: true, force: true });
  registry.clear();
}
