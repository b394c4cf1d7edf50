import { afterAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SERVER_PROCESS_ENV, serverProcessEnv } from "../../src/server-env.ts";
import { REPO_ROOT, startBunka, type BrokerHandle } from "../support/broker.ts";

let broker: BrokerHandle | null = null;
afterAll(async () => {
  await broker?.stop();
});

test("`bun run server` sets the same process environment as the harness and the tests", () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
  const script = pkg.scripts.server as string;
  for (const [k, v] of Object.entries(SERVER_PROCESS_ENV)) {
    // `K=${K:-v}`: the default, unless the caller's environment sets it
    expect(script).toContain(`${k}=\${${k}:-${v}}`);
  }
  expect(script).toEndWith("bun src/server.ts");
});

test("a value the caller sets wins over the default", () => {
  const env = serverProcessEnv({ MIMALLOC_PURGE_DELAY: "25", OTHER: "x" });
  expect(env.MIMALLOC_PURGE_DELAY).toBe("25");
  expect(env.OTHER).toBe("x");
  expect(serverProcessEnv({}).MIMALLOC_PURGE_DELAY).toBe("-1");
});

test("a broker started by the test support runs with that environment", async () => {
  broker = await startBunka({ name: "server-env" });
  const pid = broker.proc?.pid;
  expect(pid).toBeGreaterThan(0);
  const environ = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
  for (const [k, v] of Object.entries(SERVER_PROCESS_ENV)) {
    const expected = process.env[k] ?? v;
    expect(environ).toContain(`${k}=${expected}`);
  }
});
