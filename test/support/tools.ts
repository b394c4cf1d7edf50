// Running the real Kafka clients from tests: kcat, the Java programs in
// test/clients/java (and Kafka's own CLI tools from the jars), the franz-go
// program. Everything they need is installed by scripts/setup-test-deps.sh
// (`bun run test` runs it first).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./broker.ts";

export const CACHE_DIR = join(REPO_ROOT, ".cache");
export const KAFKA_LIBS = join(CACHE_DIR, "kafka", "libs");
export const JAVA_CLASSES = join(CACHE_DIR, "java-classes");
export const FRANZ_BIN = join(CACHE_DIR, "bin", "franz-client");
export const CLIENT_LOG4J = join(REPO_ROOT, "scripts", "kafka", "log4j2-client.properties");

export interface RunOptions {
  /** Kill the process and throw after this long; default 120 s. */
  timeoutMs?: number;
  /** Bytes or text for stdin; default: no stdin. */
  stdin?: string | Uint8Array;
  env?: Record<string, string>;
  cwd?: string;
  /** Don't throw on a non-zero exit (the result carries exitCode). */
  allowFailure?: boolean;
}

export interface RunResult {
  cmd: string[];
  exitCode: number;
  stdout: string;
  stdoutBytes: Uint8Array;
  stderr: string;
  ms: number;
}

export class RunError extends Error {
  constructor(
    message: string,
    readonly result: RunResult,
  ) {
    super(message);
  }
}

function clip(s: string, n = 8000): string {
  return s.length > n ? s.slice(0, n / 2) + `\n...[${s.length - n} chars cut]...\n` + s.slice(-n / 2) : s;
}

/** Runs a command, capturing stdout/stderr; throws RunError (with the output) on
 *  non-zero exit or timeout. */
export async function run(cmd: string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const started = performance.now();
  const stdin = opts.stdin === undefined ? "ignore" : typeof opts.stdin === "string" ? new TextEncoder().encode(opts.stdin) : opts.stdin;
  const proc = Bun.spawn(cmd, {
    cwd: opts.cwd ?? REPO_ROOT,
    env: { ...process.env, ...opts.env },
    stdin,
    stdout: "pipe",
    stderr: "pipe",
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, timeoutMs);
  const [outBuf, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout).arrayBuffer(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  const stdoutBytes = new Uint8Array(outBuf);
  const result: RunResult = {
    cmd,
    exitCode,
    stdout: new TextDecoder().decode(stdoutBytes),
    stdoutBytes,
    stderr,
    ms: Math.round(performance.now() - started),
  };
  if (timedOut || (exitCode !== 0 && !opts.allowFailure)) {
    const why = timedOut ? `timed out after ${timeoutMs} ms` : `exited with code ${exitCode}`;
    throw new RunError(
      `${cmd.join(" ")}\n${why} after ${result.ms} ms\n--- stdout\n${clip(result.stdout)}\n--- stderr\n${clip(stderr)}`,
      result,
    );
  }
  return result;
}

function requireFile(path: string, what: string): void {
  if (!existsSync(path)) {
    throw new Error(`${what} not found at ${path}: run \`bash scripts/setup-test-deps.sh\` (bun run test does it)`);
  }
}

/** Parses JSON-lines output (non-JSON lines are ignored). */
export function jsonLines(stdout: string): Record<string, any>[] {
  const out: Record<string, any>[] = [];
  for (const line of stdout.split("\n")) {
    const t = line.trim();
    if (!t.startsWith("{")) continue;
    try {
      out.push(JSON.parse(t));
    } catch {}
  }
  return out;
}

/** The last JSON line of a test program's output (its summary). */
export function lastJson(stdout: string): Record<string, any> {
  const lines = jsonLines(stdout);
  const last = lines[lines.length - 1];
  if (!last) throw new Error(`no JSON line in output:\n${clip(stdout)}`);
  return last;
}

// ------------------------------------------------------------------ kcat

export function kcatPath(): string {
  const p = Bun.which("kcat");
  if (!p) throw new Error("kcat not on PATH: run `bash scripts/setup-test-deps.sh` (bun run test does it)");
  return p;
}

/** Runs kcat with `-b bootstrap` prepended. */
export function kcat(bootstrap: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run([kcatPath(), "-b", bootstrap, ...args], opts);
}

// ------------------------------------------------------------------ Java

/** Classpath with the compiled test programs and all Kafka jars. */
export function javaClasspath(): string {
  requireFile(join(KAFKA_LIBS, ".stamp"), "Kafka jars");
  requireFile(join(JAVA_CLASSES, ".stamp"), "compiled Java test clients");
  return `${JAVA_CLASSES}:${KAFKA_LIBS}/*`;
}

export interface JavaOptions extends RunOptions {
  /** JVM flags, e.g. ["-Xmx512m"]. */
  jvmArgs?: string[];
}

/** Runs a Java main class (a test program such as "ProduceConsume", or a Kafka tool
 *  such as "org.apache.kafka.tools.TopicCommand") with the test classpath; client
 *  logging goes to stderr at WARN. */
export function java(mainClass: string, args: string[], opts: JavaOptions = {}): Promise<RunResult> {
  const cmd = [
    "java",
    `-Dlog4j2.configurationFile=${CLIENT_LOG4J}`,
    ...(opts.jvmArgs ?? []),
    "-cp",
    javaClasspath(),
    mainClass,
    ...args,
  ];
  return run(cmd, opts);
}

/** Runs one of test/clients/java with `--bootstrap` and returns its JSON lines;
 *  throws if it fails or its last line is not {"ok":true}. */
export async function javaClient(
  mainClass: string,
  bootstrap: string,
  args: string[] = [],
  opts: JavaOptions = {},
): Promise<{ result: RunResult; lines: Record<string, any>[]; summary: Record<string, any> }> {
  const result = await java(mainClass, ["--bootstrap", bootstrap, ...args], opts);
  const lines = jsonLines(result.stdout);
  const summary = lines[lines.length - 1];
  if (!summary || summary.ok !== true) {
    throw new Error(`${mainClass} did not report ok:\n${clip(result.stdout)}\n${clip(result.stderr)}`);
  }
  return { result, lines, summary };
}

/** Kafka's kafka-topics.sh: org.apache.kafka.tools.TopicCommand --bootstrap-server ... */
export function topicCommand(bootstrap: string, args: string[], opts: JavaOptions = {}): Promise<RunResult> {
  // Short-lived tool: C1-only JIT and the serial GC start noticeably faster on 2 cores.
  const jvmArgs = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", ...(opts.jvmArgs ?? [])];
  return java("org.apache.kafka.tools.TopicCommand", ["--bootstrap-server", bootstrap, ...args], { ...opts, jvmArgs });
}

// ------------------------------------------------------------------ franz-go

/** Runs .cache/bin/franz-client --bootstrap ...; returns its JSON lines; throws unless
 *  its last line is {"ok":true}. */
export async function franz(
  bootstrap: string,
  args: string[] = [],
  opts: RunOptions = {},
): Promise<{ result: RunResult; lines: Record<string, any>[]; summary: Record<string, any> }> {
  requireFile(FRANZ_BIN, "franz-client");
  const result = await run([FRANZ_BIN, "--bootstrap", bootstrap, ...args], opts);
  const lines = jsonLines(result.stdout);
  const summary = lines[lines.length - 1];
  if (!summary || summary.ok !== true) {
    throw new Error(`franz-client did not report ok:\n${clip(result.stdout)}\n${clip(result.stderr)}`);
  }
  return { result, lines, summary };
}

// ------------------------------------------------------------------ kafkajs admin

/** Creates a topic with kafkajs' admin client (fast, in-process) and waits until
 *  every partition has a leader and answers ListOffsets. Used by tests whose client can't create topics. */
export async function createTopic(
  bootstrap: string,
  topic: string,
  numPartitions: number,
  configs: Record<string, string> = {},
): Promise<void> {
  const { Kafka, logLevel } = await import("kafkajs");
  const kafka = new Kafka({ clientId: "bunka-test-setup", brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic,
          numPartitions,
          replicationFactor: 1,
          configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })),
        },
      ],
    });
    // A leader in the metadata does not mean the partition serves requests yet
    // (real Kafka answers NOT_LEADER / UNKNOWN_TOPIC for a moment): wait for offsets.
    const deadline = Date.now() + 30_000;
    while (true) {
      try {
        const offs = await admin.fetchTopicOffsets(topic);
        if (offs.length === numPartitions) break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
      }
      if (Date.now() > deadline) throw new Error(`topic ${topic} not ready after 30 s`);
      await Bun.sleep(100);
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * Produces `count` keyed records (`k<i>` → `v<i>`) with kcat and checks that every partition got
 * some. Keyed, because librdkafka hashes keys over all partitions; without keys its sticky
 * partitioner fills whichever partition is current for 10 ms, so some partitions could stay empty
 * and a group member owning only those would rightly consume nothing.
 */
export async function produceKeyedRecords(bootstrap: string, topic: string, partitions: number, count: number): Promise<void> {
  const lines = Array.from({ length: count }, (_, i) => `k${i}:v${i}`).join("\n") + "\n";
  await kcat(bootstrap, ["-P", "-t", topic, "-K", ":", "-X", "linger.ms=20"], { stdin: lines, timeoutMs: 60_000 });
  await expectEveryPartitionHoldsData(bootstrap, topic, partitions);
}

/**
 * Fails unless every partition of `topic` holds at least one record (end offset > 0). Group tests
 * need it: a member whose partitions are all empty consumes nothing, which is not a group bug.
 */
export async function expectEveryPartitionHoldsData(bootstrap: string, topic: string, numPartitions: number): Promise<void> {
  const { Kafka, logLevel } = await import("kafkajs");
  const admin = new Kafka({ clientId: "bunka-test-check", brokers: [bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    const empty = offsets.filter((o) => Number(o.high) === 0).map((o) => o.partition);
    if (offsets.length !== numPartitions || empty.length > 0) {
      throw new Error(`topic ${topic}: expected data in all ${numPartitions} partitions, empty: [${empty.join(",")}] of ${offsets.length}`);
    }
  } finally {
    await admin.disconnect();
  }
}
