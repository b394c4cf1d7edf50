/**
 * The benchmark clients (run.ts, profile.ts) run under the same allocator settings as the broker
 * (src/server-env.ts). Without MIMALLOC_PURGE_DELAY=-1 the client process hands freed pages back
 * to the kernel and faults fresh zeroed ones in moments later for the next requests and fetch
 * responses: in a vs-kafka run at 100 partitions × 60 MiB/s, `perf record -a` put 12 % of the
 * machine's samples in the client's clear_page_erms, and the broker measured right then showed
 * e2e p99 46-76 ms instead of 13-24 ms (bench/RESULTS.md, session 17). How much the client churns
 * depends on the steps it ran before (Kafka's long tails leave it holding more), so it also made
 * one broker's figures depend on the other's history.
 *
 * The variable is read at process start, so a process started without it runs itself again with
 * it (same argv, inherited stdio; signals passed on) and exits with the child's code.
 */
import { SERVER_PROCESS_ENV, serverProcessEnv } from "../../src/server-env.ts";

/** Returns at once when the environment already has the settings; otherwise never returns. */
export async function runWithClientProcessEnv(): Promise<void> {
  if (Object.keys(SERVER_PROCESS_ENV).every((k) => process.env[k] !== undefined)) return;
  const child = Bun.spawn([process.execPath, ...process.argv.slice(1)], {
    env: serverProcessEnv(process.env),
    stdio: ["inherit", "inherit", "inherit"],
  });
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => child.kill(sig));
  process.exit(await child.exited);
}
