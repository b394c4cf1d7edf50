// Starting brokers for integration tests.
//
//   startBunka()      spawns `bun src/server.ts` on a free loopback port with a
//                     temporary data dir, waits for "bunka listening on HOST:PORT".
//   startRealKafka()  starts Apache Kafka 4.x via scripts/kafka/kafka.sh (needs
//                     scripts/setup-test-deps.sh to have run).
//   startTestBroker() what the client tests use: Bunka, or real Kafka when
//                     BUNKA_TEST_BROKER=kafka (to check a test or client program
//                     against the reference implementation).
//
// Broker output is kept in .cache/test-logs/<name>-<time>.log (its path is in
// `logFile` and in every error message); temporary data dirs are removed by
// stop() unless BUNKA_TEST_KEEP_DATA=1.
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { serverProcessEnv } from "../../src/server-env.ts";

export const REPO_ROOT = join(import.meta.dir, "..", "..");
export const LOG_DIR = join(REPO_ROOT, ".cache", "test-logs");

export interface BrokerHandle {
  kind: "bunka" | "kafka";
  host: string;
  port: number;
  /** "host:port", what clients take as bootstrap server. */
  bootstrap: string;
  dataDir: string;
  /** File receiving the broker's stdout and stderr. */
  logFile: string;
  /** The broker process (Bunka: the bun subprocess; Kafka: null, it runs detached). */
  proc: Subprocess | null;
  /** Graceful stop (SIGTERM, SIGKILL after 10 s); removes a temporary data dir. */
  stop(): Promise<void>;
  /** SIGKILL, wait for exit; keeps the data dir (for crash-recovery tests). */
  kill9(): Promise<void>;
  /** Stop (gracefully unless already dead) and start again on the same port and
   *  data dir. Updates and returns this same handle. */
  restart(): Promise<BrokerHandle>;
}

export interface StartBunkaOptions {
  /** Data dir (log.dirs). Default: a fresh temporary dir, removed by stop(). */
  dataDir?: string;
  /** Extra `--override key=value` settings (listeners and log.dirs are set already,
   *  but can be overridden here). */
  overrides?: Record<string, string>;
  /** Properties file passed as the first argument to the server. */
  configFile?: string;
  /** Port to listen on; default 0 (a free one, kept across restart()). */
  port?: number;
  /** How long to wait for the listening line; default 30 s. */
  startTimeoutMs?: number;
  /** Extra environment for the server process. */
  env?: Record<string, string>;
  /** Name used for the log file; default "bunka". */
  name?: string;
}

const LISTENING = /^bunka listening on (\S+):(\d+)\s*$/;
const live = new Set<Subprocess>();
/** Data dirs of real Kafka brokers started by this process and not stopped yet. */
const kafkaDataDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Never leave a broker behind when the test process ends.
  process.on("exit", () => {
    for (const p of live) {
      try {
        p.kill("SIGKILL");
      } catch {}
    }
    for (const dir of kafkaDataDirs) {
      try {
        process.kill(Number(readFileSync(join(dir, "kafka.pid"), "utf8").trim()), "SIGKILL");
      } catch {}
    }
  });
}

let logsPruned = false;

function newLogFile(name: string): string {
  mkdirSync(LOG_DIR, { recursive: true });
  if (!logsPruned) {
    // Keep a day of broker logs.
    logsPruned = true;
    const cutoff = Date.now() - 24 * 3600_000;
    for (const f of readdirSync(LOG_DIR)) {
      try {
        if (statSync(join(LOG_DIR, f)).mtimeMs < cutoff) rmSync(join(LOG_DIR, f), { force: true });
      } catch {}
    }
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const file = join(LOG_DIR, `${name}-${stamp}-${process.pid}-${Math.random().toString(36).slice(2, 6)}.log`);
  writeFileSync(file, "");
  return file;
}

function tail(file: string, bytes = 6000): string {
  try {
    const s = readFileSync(file, "utf8");
    return s.length > bytes ? "..." + s.slice(-bytes) : s;
  } catch {
    return "(no log)";
  }
}

/** Pumps a process stream into the log file, line by line, calling onLine for stdout lines. */
async function pump(
  stream: ReadableStream<Uint8Array>,
  logFile: string,
  prefix: string,
  onLine?: (line: string) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of stream) {
    const text = decoder.decode(chunk, { stream: true });
    appendFileSync(logFile, prefix ? text.replace(/^(?=.)/gm, prefix) : text);
    if (onLine) {
      buf += text;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        onLine(buf.slice(0, nl).replace(/\r$/, ""));
        buf = buf.slice(nl + 1);
      }
    }
  }
  if (onLine && buf) onLine(buf);
}

async function waitExit(proc: Subprocess, ms: number): Promise<boolean> {
  const timer = new Promise<false>((r) => setTimeout(() => r(false), ms));
  return Promise.race([proc.exited.then(() => true as const), timer]);
}

export async function startBunka(opts: StartBunkaOptions = {}): Promise<BrokerHandle> {
  installExitHook();
  const ownDataDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "bunka-test-"));
  mkdirSync(dataDir, { recursive: true });
  const logFile = newLogFile(opts.name ?? "bunka");
  const timeoutMs = opts.startTimeoutMs ?? 30_000;

  const handle: BrokerHandle = {
    kind: "bunka",
    host: "127.0.0.1",
    port: opts.port ?? 0,
    bootstrap: "",
    dataDir,
    logFile,
    proc: null,
    stop,
    kill9,
    restart,
  };

  async function spawnOnce(port: number): Promise<void> {
    const overrides: Record<string, string> = {
      listeners: `PLAINTEXT://127.0.0.1:${port}`,
      "log.dirs": dataDir,
      ...opts.overrides,
    };
    const args = ["bun", join(REPO_ROOT, "src", "server.ts")];
    if (opts.configFile) args.push(opts.configFile);
    for (const [k, v] of Object.entries(overrides)) args.push("--override", `${k}=${v}`);
    appendFileSync(logFile, `\n===== ${new Date().toISOString()} ${args.join(" ")}\n`);
    const proc = Bun.spawn(args, {
      cwd: REPO_ROOT,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: serverProcessEnv({ ...process.env, ...opts.env }),
    });
    live.add(proc);
    void proc.exited.then(() => live.delete(proc));
    handle.proc = proc;

    let resolveReady!: (hp: { host: string; port: number }) => void;
    const ready = new Promise<{ host: string; port: number }>((r) => (resolveReady = r));
    void pump(proc.stdout as ReadableStream<Uint8Array>, logFile, "", (line) => {
      const m = LISTENING.exec(line);
      if (m) resolveReady({ host: m[1]!, port: Number(m[2]) });
    });
    void pump(proc.stderr as ReadableStream<Uint8Array>, logFile, "[stderr] ");

    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      ready.then((hp) => ({ kind: "ready" as const, hp })),
      proc.exited.then((code) => ({ kind: "exited" as const, code })),
      new Promise<{ kind: "timeout" }>((r) => (timer = setTimeout(() => r({ kind: "timeout" }), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (outcome.kind !== "ready") {
      if (outcome.kind === "timeout") {
        proc.kill("SIGKILL");
        await proc.exited;
      }
      await Bun.sleep(50); // let the pumps flush the last output
      const why =
        outcome.kind === "timeout"
          ? `did not print "bunka listening on HOST:PORT" within ${timeoutMs} ms`
          : `exited with code ${outcome.code} before listening`;
      throw new Error(`Bunka ${why}\ncommand: ${args.join(" ")}\nlog: ${logFile}\n${tail(logFile)}`);
    }
    handle.host = outcome.hp.host;
    handle.port = outcome.hp.port;
    handle.bootstrap = `${handle.host}:${handle.port}`;
  }

  async function stopProc(signal: "SIGTERM" | "SIGKILL"): Promise<void> {
    const proc = handle.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    if (!(await waitExit(proc, 10_000))) {
      appendFileSync(logFile, `\n===== did not exit 10 s after ${signal}; sending SIGKILL\n`);
      proc.kill("SIGKILL");
      await proc.exited;
    }
  }

  async function stop(): Promise<void> {
    await stopProc("SIGTERM");
    if (ownDataDir && process.env.BUNKA_TEST_KEEP_DATA !== "1") rmSync(dataDir, { recursive: true, force: true });
  }

  async function kill9(): Promise<void> {
    await stopProc("SIGKILL");
  }

  async function restart(): Promise<BrokerHandle> {
    await stopProc("SIGTERM");
    await spawnOnce(handle.port);
    return handle;
  }

  try {
    await spawnOnce(handle.port);
  } catch (e) {
    if (ownDataDir && process.env.BUNKA_TEST_KEEP_DATA !== "1") rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  return handle;
}

/** A free TCP port on 127.0.0.1 (bound and released; small race, fine for tests). */
export function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

export interface StartRealKafkaOptions {
  /** Client port; default: a free port (controller gets another free port). */
  port?: number;
  /** Data dir; default: a fresh temporary dir, removed by stop(). */
  dataDir?: string;
  /** Wipe the data dir first (only matters with an explicit dataDir). */
  fresh?: boolean;
  /** Extra server.properties lines. */
  extraProps?: Record<string, string>;
  /** JVM heap, default "1g". */
  heap?: string;
}

/** Starts Apache Kafka 4.x via scripts/kafka/kafka.sh. */
export async function startRealKafka(opts: StartRealKafkaOptions = {}): Promise<BrokerHandle> {
  const port = opts.port ?? freePort();
  let cport = freePort();
  while (cport === port) cport = freePort();
  const ownDataDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "kafka-test-"));
  const script = join(REPO_ROOT, "scripts", "kafka", "kafka.sh");
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(cport),
    KAFKA_DATA_DIR: dataDir,
    KAFKA_HEAP: opts.heap ?? "1g",
    KAFKA_EXTRA_PROPS: Object.entries(opts.extraProps ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join("\n"),
  };
  const sh = async (args: string[]) => {
    const p = Bun.spawn(["bash", script, ...args], { env, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    if (code !== 0) throw new Error(`kafka.sh ${args.join(" ")} failed (exit ${code}):\n${out}${err}`);
    return out;
  };
  const startArgs = ["start", ...(opts.fresh && !ownDataDir ? ["--fresh"] : [])];
  // The JVM runs detached (setsid): if this test process ends without stop() —
  // a timed-out hook, a crash — kill it from its pid file on the way out.
  kafkaDataDirs.add(dataDir);
  installExitHook();
  await sh(startArgs);
  const pidOf = () => Number(readFileSync(join(dataDir, "kafka.pid"), "utf8").trim());
  const handle: BrokerHandle = {
    kind: "kafka",
    host: "127.0.0.1",
    port,
    bootstrap: `127.0.0.1:${port}`,
    dataDir,
    logFile: join(dataDir, "server.log"),
    proc: null,
    async stop() {
      await sh(["stop"]);
      kafkaDataDirs.delete(dataDir);
      if (ownDataDir && process.env.BUNKA_TEST_KEEP_DATA !== "1") rmSync(dataDir, { recursive: true, force: true });
    },
    async kill9() {
      let pid: number;
      try {
        pid = pidOf();
      } catch {
        return;
      }
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
      while (true) {
        try {
          process.kill(pid, 0);
        } catch {
          break;
        }
        await Bun.sleep(50);
      }
    },
    async restart() {
      await sh(["stop"]);
      await sh(["start"]);
      return handle;
    },
  };
  return handle;
}

/**
 * The broker the client tests run against: Bunka by default; real Apache Kafka when
 * BUNKA_TEST_BROKER=kafka (e.g. `BUNKA_TEST_BROKER=kafka bun test test/integration`),
 * which is how the tests and client programs themselves are validated.
 */
export async function startTestBroker(opts: StartBunkaOptions = {}): Promise<BrokerHandle> {
  if (process.env.BUNKA_TEST_BROKER === "kafka") {
    const k: StartRealKafkaOptions = {};
    if (opts.overrides) k.extraProps = opts.overrides;
    if (opts.dataDir) k.dataDir = opts.dataDir;
    return startRealKafka(k);
  }
  return startBunka(opts);
}
