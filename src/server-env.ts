/**
 * Environment the broker process is started with (`bun run server`, the benchmark harness, the
 * integration tests), the way Kafka's start script sets JVM flags. Read by the runtime at process
 * start, so it cannot be set from inside server.ts; package.json's `server` script repeats it
 * (test/unit/server-env.test.ts keeps the two equal). A value already in the environment wins.
 *
 * MIMALLOC_PURGE_DELAY=-1: Bun's allocator (mimalloc) by default hands freed pages back to the
 * kernel after 10 ms, and the broker touches them again moments later: at 1000 partitions × 50
 * MiB/s its scavenger thread and page-fault handling took ~25-45 % of a core next to the event
 * loop (bench/RESULTS.md, session 4), and e2e p99 dropped from 3-12 s to 1.7-2.8 s without it. A
 * 1 s delay did not help. Cost: the process keeps its peak heap instead of shrinking after a
 * burst, as a JVM keeps its committed heap.
 */
export const SERVER_PROCESS_ENV: Readonly<Record<string, string>> = {
  MIMALLOC_PURGE_DELAY: "-1",
};

/** `base` with SERVER_PROCESS_ENV added where `base` does not set the variable itself. */
export function serverProcessEnv(base: Record<string, string | undefined>): Record<string, string | undefined> {
  const env = { ...base };
  for (const [k, v] of Object.entries(SERVER_PROCESS_ENV)) if (env[k] === undefined) env[k] = v;
  return env;
}
