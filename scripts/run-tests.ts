// `bun run test`: installs/builds what the tests need (scripts/setup-test-deps.sh,
// cached), then runs `bun test ./test` (unit + integration), streaming its output,
// and ends with a plain summary line `N passed, N failed` (`, N skipped` when
// some were). Exits with bun test's exit code.
//
// Extra arguments go to bun test: `bun run test test/unit`, `bun run test -t kcat`.
// Env: BUNKA_SKIP_SETUP=1 skips the setup step.
import { existsSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");

async function main(): Promise<number> {
  if (process.env.BUNKA_SKIP_SETUP !== "1") {
    const setup = Bun.spawn(["bash", join(ROOT, "scripts", "setup-test-deps.sh")], {
      cwd: ROOT,
      stdio: ["ignore", "inherit", "inherit"],
    });
    const code = await setup.exited;
    if (code !== 0) {
      console.error(`run-tests: scripts/setup-test-deps.sh failed (exit ${code}); not running tests`);
      return code || 1;
    }
  }

  const extra = process.argv.slice(2);
  // Existing paths must look like paths to bun test (./x), not file-name filters.
  const asPath = (a: string) => (!a.startsWith("-") && !a.startsWith(".") && !a.startsWith("/") && existsSync(join(ROOT, a)) ? `./${a}` : a);
  const hasTarget = extra.some((a, i) => !a.startsWith("-") && !(i > 0 && /^-(t|-test-name-pattern|-timeout|-rerun-each|-bail|-preload)$/.test(extra[i - 1]!)));
  const targets = hasTarget ? extra.map(asPath) : [...extra, "./test"];
  // bunfig.toml's [test] timeout is not applied by bun 1.4.5; integration tests start brokers and JVMs.
  const timeout = extra.some((a) => a.startsWith("--timeout")) ? [] : ["--timeout=120000"];
  const cmd = [process.execPath, "test", ...timeout, ...targets];
  console.log(`run-tests: ${["bun", ...cmd.slice(1)].join(" ")}`);
  const proc = Bun.spawn(cmd, { cwd: ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe" });

  // Forward both streams as they come, keeping a tail of each to find the summary.
  const tails = { out: "", err: "" };
  const forward = async (stream: ReadableStream<Uint8Array>, sink: NodeJS.WriteStream, key: "out" | "err") => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      sink.write(chunk);
      tails[key] = (tails[key] + decoder.decode(chunk, { stream: true })).slice(-20_000);
    }
  };
  const [, , code] = await Promise.all([
    forward(proc.stdout as ReadableStream<Uint8Array>, process.stdout, "out"),
    forward(proc.stderr as ReadableStream<Uint8Array>, process.stderr, "err"),
    proc.exited,
  ]);

  const text = tails.err + "\n" + tails.out;
  const count = (word: string): number | undefined => {
    const all = [...text.matchAll(new RegExp(`^\\s*(\\d+) ${word}\\s*$`, "gm"))];
    const last = all[all.length - 1];
    return last ? Number(last[1]) : undefined;
  };
  const pass = count("pass");
  const fail = count("fail");
  const skip = (count("skip") ?? 0) + (count("todo") ?? 0);
  if (pass === undefined && fail === undefined) {
    console.log(`run-tests: no test summary found in bun test's output (exit ${code})`);
    console.log(`0 passed, ${code === 0 ? 0 : 1} failed`);
    return code === 0 ? 1 : code;
  }
  // An unhandled error between tests makes bun test fail without a failing test.
  const failed = (fail ?? 0) === 0 && code !== 0 ? 1 : (fail ?? 0);
  console.log(`${pass ?? 0} passed, ${failed} failed${skip > 0 ? `, ${skip} skipped` : ""}`);
  return code;
}

process.exit(await main());
