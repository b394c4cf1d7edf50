/**
 * Starting, stopping and killing the two brokers of the comparison, the same way for both:
 *
 *   - Apache Kafka 4.3.1 through scripts/kafka/kafka.sh (KRaft, broker+controller in one JVM,
 *     -Xms/-Xmx from KAFKA_HEAP), extra server.properties lines through KAFKA_EXTRA_PROPS;
 *   - Bunka as `bun src/server.ts --override ...`.
 *
 * Both listen on 127.0.0.1 and keep their data under one parent directory (the caller's, on the
 * same filesystem). "Ready" is measured the same way for both: the first Metadata request that a
 * fresh TCP connection gets answered with at least one broker in it, polled every 10 ms.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { ListOffsets, Metadata } from "../../src/client/codecs.ts";
import { WireClient } from "../../src/client/wire-client.ts";
import { ErrorCode } from "../../src/protocol/error-codes.ts";
import { freePort, REPO_ROOT } from "../../test/support/broker.ts";
import { serverProcessEnv } from "../../src/server-env.ts";
import { procStatFields } from "../lib/env.ts";

export type BrokerKind = "kafka" | "bunka";
export type Durability = "none" | "fsync";

export interface BrokerSpec {
  kind: BrokerKind;
  durability: Durability;
  /** Parent of the data dir; wiped before a fresh start. */
  dataDir: string;
  /** JVM heap for Kafka, e.g. "2g". */
  heap: string;
  /** Bunka only: extra `bun` flags before the script (profiling: --preload, --cpu-prof-md ...). */
  bunArgs?: string[];
  /** Extra environment for the broker process. */
  env?: Record<string, string>;
  /** Bunka only: extra `--override key=value` settings (experiments, e.g. bunka.log.io). */
  overrides?: Record<string, string>;
}

export interface Broker {
  spec: BrokerSpec;
  host: string;
  port: number;
  bootstrap: string;
  /** The broker's own process (Kafka: the JVM). */
  pid(): number;
  /** Graceful stop; waits for the process to exit. */
  stop(): Promise<void>;
  /** SIGKILL; waits for the process to exit; keeps the data. */
  kill9(): Promise<void>;
  /** Starts the process again on the same port and data; resolves when ready, with ms from spawn to ready. */
  start(): Promise<number>;
  /**
   * SIGSTOP / SIGCONT of the broker's process (all its threads): while the other broker is
   * measured this one uses no CPU, keeping only its memory (README.md here, "What runs").
   */
  pause(): void;
  resume(): void;
  logFile: string;
}

/** The settings behind the two durability labels. See bench/vs-kafka/README.md for why. */
export function durabilitySettings(kind: BrokerKind, d: Durability): Record<string, string> {
  if (kind === "kafka") {
    // Kafka's default is "none" (no flush by message count or time; the OS writes back).
    // log.flush.interval.messages=1: UnifiedLog.append calls flush() when unflushedMessages >= 1,
    // i.e. after every append, on the request thread, before the produce response is built.
    return d === "fsync" ? { "log.flush.interval.messages": "1" } : {};
  }
  // Bunka's default is durable (group-committed fdatasync before acks=all is answered); setting a
  // flush interval switches it to periodic, non-durable flushing.
  return d === "fsync" ? {} : { "log.flush.interval.ms": "60000" };
}

/** Polls until a fresh connection gets a Metadata answer naming a broker. */
export async function waitReady(host: string, port: number, timeoutMs: number, alive: () => boolean): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (true) {
    if (!alive()) throw new Error(`broker on ${host}:${port} exited before it was ready`);
    let c: WireClient | null = null;
    try {
      c = await WireClient.connect(host, port, "vs-kafka-ready");
      const md = await Promise.race([
        c.send(Metadata, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }),
        Bun.sleep(2000).then(() => null),
      ]);
      if (md && md.brokers.length > 0) return;
    } catch {
      // not listening yet
    } finally {
      c?.close();
    }
    if (performance.now() > deadline) throw new Error(`broker on ${host}:${port} not ready after ${timeoutMs} ms`);
    await Bun.sleep(10);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // a zombie still answers kill(0); check its state
    return procStatFields(`/proc/${pid}/stat`)[0] !== "Z";
  } catch {
    return false;
  }
}

function signal(pid: number, sig: "SIGSTOP" | "SIGCONT"): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone: the next step that needs the broker reports it
  }
}

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (pidAlive(pid)) {
    if (performance.now() > deadline) return false;
    await Bun.sleep(20);
  }
  return true;
}

/** Resident set size of a process in MiB, from /proc/PID/status VmRSS. */
export function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

// ------------------------------------------------------------------------------- Kafka

const KAFKA_SH = join(REPO_ROOT, "scripts", "kafka", "kafka.sh");

export async function createKafka(spec: BrokerSpec, opts: { fresh: boolean }): Promise<Broker> {
  const port = freePort();
  let cport = freePort();
  while (cport === port) cport = freePort();
  if (opts.fresh) rmSync(spec.dataDir, { recursive: true, force: true });
  mkdirSync(spec.dataDir, { recursive: true });
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(cport),
    KAFKA_DATA_DIR: spec.dataDir,
    KAFKA_HEAP: spec.heap,
    KAFKA_START_TIMEOUT: "180",
    ...spec.env,
    KAFKA_EXTRA_PROPS: Object.entries(durabilitySettings("kafka", spec.durability))
      .map(([k, v]) => `${k}=${v}`)
      .join("\n"),
  };
  const sh = async (args: string[]) => {
    const p = Bun.spawn(["bash", KAFKA_SH, ...args], { env, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    if (code !== 0) throw new Error(`kafka.sh ${args.join(" ")} failed (exit ${code}):\n${out}${err}`);
    return out;
  };
  const pidFile = join(spec.dataDir, "kafka.pid");
  // Read once per start and kept: a pass must go on pausing the JVM it measures even if the file
  // goes (a leftover kafka.sh of an interrupted run removed it once, mid-grid: Kafka then ran
  // unpaused through Bunka's turns and every RSS sample failed).
  let startedPid = 0;
  const readPid = () => {
    if (startedPid === 0) startedPid = Number(readFileSync(pidFile, "utf8").trim());
    return startedPid;
  };
  const broker: Broker = {
    spec,
    host: "127.0.0.1",
    port,
    bootstrap: `127.0.0.1:${port}`,
    logFile: join(spec.dataDir, "server.log"),
    pid: readPid,
    async start() {
      // Format first when needed (a separate JVM run, not part of the broker's startup time).
      if (!existsSync(join(spec.dataDir, "metadata", "meta.properties"))) await sh(["format"]);
      const t0 = performance.now();
      const script = sh(["start"]);
      let scriptDone = false;
      let scriptErr: unknown = null;
      script.then(
        () => (scriptDone = true),
        (e) => ((scriptDone = true), (scriptErr = e)),
      );
      await waitReady("127.0.0.1", port, 180_000, () => !scriptErr);
      const ms = performance.now() - t0;
      await script; // kafka.sh returns once it sees "Kafka Server started"
      void scriptDone;
      startedPid = 0;
      readPid(); // this start's JVM
      return ms;
    },
    pause() {
      if (startedPid !== 0 || existsSync(pidFile)) signal(readPid(), "SIGSTOP");
    },
    resume() {
      if (startedPid !== 0 || existsSync(pidFile)) signal(readPid(), "SIGCONT");
    },
    async stop() {
      // a paused JVM would not act on kafka.sh's SIGTERM
      this.resume();
      await sh(["stop"]);
    },
    async kill9() {
      let pid: number;
      try {
        pid = readPid();
      } catch {
        return;
      }
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
      await waitGone(pid, 30_000);
      // The JVM was started detached (setsid nohup), so init reaps it, which here takes about a
      // second; kafka.sh's `kill -0` sees the zombie as running. Wait for the reaping, then drop the
      // pid file so that `kafka.sh start` does not try to stop a dead process.
      const deadline = performance.now() + 30_000;
      while (existsSync(`/proc/${pid}`) && performance.now() < deadline) await Bun.sleep(20);
      rmSync(pidFile, { force: true });
    },
  };
  return broker;
}

// ------------------------------------------------------------------------------- Bunka

export async function createBunka(spec: BrokerSpec, opts: { fresh: boolean }): Promise<Broker> {
  const port = freePort();
  if (opts.fresh) rmSync(spec.dataDir, { recursive: true, force: true });
  mkdirSync(join(spec.dataDir, "logs"), { recursive: true });
  const logFile = join(spec.dataDir, "server.log");
  let proc: Subprocess | null = null;
  const overrides: Record<string, string> = {
    listeners: `PLAINTEXT://127.0.0.1:${port}`,
    "log.dirs": join(spec.dataDir, "logs"),
    ...durabilitySettings("bunka", spec.durability),
    ...spec.overrides,
  };
  const args = ["bun", ...(spec.bunArgs ?? []), join(REPO_ROOT, "src", "server.ts")];
  for (const [k, v] of Object.entries(overrides)) args.push("--override", `${k}=${v}`);
  const broker: Broker = {
    spec,
    host: "127.0.0.1",
    port,
    bootstrap: `127.0.0.1:${port}`,
    logFile,
    pid: () => {
      if (!proc) throw new Error("bunka not started");
      return proc.pid;
    },
    async start() {
      const fd = openSync(logFile, "a");
      const t0 = performance.now();
      const p = Bun.spawn(args, { cwd: REPO_ROOT, stdout: fd, stderr: fd, stdin: "ignore", env: serverProcessEnv({ ...process.env, ...spec.env }) });
      closeSync(fd);
      proc = p;
      await waitReady("127.0.0.1", port, 120_000, () => p.exitCode === null && p.signalCode === null);
      return performance.now() - t0;
    },
    pause() {
      if (proc) signal(proc.pid, "SIGSTOP");
    },
    resume() {
      if (proc) signal(proc.pid, "SIGCONT");
    },
    async stop() {
      const p = proc;
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      signal(p.pid, "SIGCONT");
      p.kill("SIGTERM");
      if (!(await waitGone(p.pid, 30_000))) {
        p.kill("SIGKILL");
        await p.exited;
      }
      await p.exited;
    },
    async kill9() {
      const p = proc;
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      p.kill("SIGKILL");
      await p.exited;
    },
  };
  liveBunkas.add(broker);
  return broker;
}

const liveBunkas = new Set<Broker>();
process.on("exit", () => {
  for (const b of liveBunkas) {
    try {
      process.kill(b.pid(), "SIGKILL");
    } catch {}
  }
});

export function createBroker(spec: BrokerSpec, opts: { fresh: boolean }): Promise<Broker> {
  return spec.kind === "kafka" ? createKafka(spec, opts) : createBunka(spec, opts);
}

/**
 * ListOffsets errors a Kafka client retries: a Kafka broker resumed after a pause can answer them
 * for a moment while its controller fences and unfences it, even after Metadata showed every
 * leader (seen once in a full run, `18-32-46Z`).
 */
const RETRIABLE_LIST_OFFSETS_ERRORS = new Set<number>([ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.LEADER_NOT_AVAILABLE, ErrorCode.NOT_LEADER_OR_FOLLOWER]);
const LIST_OFFSETS_RETRY_MS = 30_000;

/** Latest offsets of every partition of a topic (ListOffsets v7, timestamp -1), retrying retriable errors for up to 30 s. */
export async function endOffsets(client: WireClient, topic: string, partitions: number): Promise<number[]> {
  const deadline = performance.now() + LIST_OFFSETS_RETRY_MS;
  for (;;) {
    const res = await client.send(ListOffsets, 7, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [{ name: topic, partitions: Array.from({ length: partitions }, (_, i) => ({ partitionIndex: i, currentLeaderEpoch: -1, timestamp: -1 })) }],
    });
    const out = new Array<number>(partitions).fill(-1);
    let retry = false;
    for (const p of res.topics[0]?.partitions ?? []) {
      if (p.errorCode !== 0) {
        if (!RETRIABLE_LIST_OFFSETS_ERRORS.has(p.errorCode) || performance.now() > deadline) {
          throw new Error(`ListOffsets ${topic}/${p.partitionIndex}: error ${p.errorCode}`);
        }
        retry = true;
      }
      out[p.partitionIndex] = p.offset ?? -1;
    }
    if (!retry) return out;
    await Bun.sleep(10); // as often as the recovery measurement polls, so its timing stays as fine
  }
}
