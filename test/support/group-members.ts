/**
 * Group-consumer processes for integration tests: a client program (GroupConsume.java or the
 * franz-go group member) that prints JSON lines, whose `records` events (ranges of
 * [topic, partition, firstOffset, count]) are counted as they arrive.
 */
import { expect } from "bun:test";
import type { Subprocess } from "bun";
import { CLIENT_LOG4J, javaClasspath } from "./tools.ts";

export interface GroupMember {
  name: string;
  proc: Subprocess<"ignore" | "pipe", "pipe", "pipe">;
  lines: Record<string, any>[];
  consumed: number;
  exited: Promise<number>;
  stderr: Promise<string>;
  /** Resolves once stdout is fully read (the exit can be seen before the last lines). */
  drained: Promise<void>;
}

/** Spawns `cmd` and follows its JSON-line output. */
export function spawnGroupMember(name: string, cmd: string[], stdin: "ignore" | "pipe" = "ignore"): GroupMember {
  const proc = Bun.spawn(cmd, { stdin, stdout: "pipe", stderr: "pipe" });
  const m: GroupMember = { name, proc, lines: [], consumed: 0, exited: proc.exited, stderr: new Response(proc.stderr).text(), drained: Promise.resolve() };
  m.drained = (async () => {
    const decoder = new TextDecoder();
    let buf = "";
    for await (const chunk of proc.stdout) {
      buf += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line.startsWith("{")) continue;
        const obj = JSON.parse(line);
        m.lines.push(obj);
        if (obj.event === "records") for (const r of obj.ranges) m.consumed += r[3];
      }
    }
  })();
  return m;
}

/** The Java GroupConsume program with the JVM flags the tests use (fast start on 2 cores). */
export function javaGroupMember(name: string, args: string[], stdin: "ignore" | "pipe" = "ignore"): GroupMember {
  // BUNKA_TEST_CLIENT_LOG4J swaps in another log4j2 config (e.g. DEBUG to a file per member, named
  // by ${sys:bunka.member}) when chasing a group bug.
  const log4j = process.env.BUNKA_TEST_CLIENT_LOG4J || CLIENT_LOG4J;
  const jvm = ["java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", `-Dlog4j2.configurationFile=${log4j}`, `-Dbunka.member=${name}`, "-cp", javaClasspath(), "GroupConsume"];
  return spawnGroupMember(name, [...jvm, "--label", name, ...args], stdin);
}

/** Polls `cond` until it holds or `ms` pass. */
export async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string, stepMs = 50): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(stepMs);
  }
}

/** Asks a member started with stdin "pipe" (and --stop-on-stdin) to leave the group cleanly. */
export async function stopMember(m: GroupMember): Promise<void> {
  const stdin = m.proc.stdin;
  if (typeof stdin !== "object" || stdin === null) throw new Error(`member ${m.name} was not started with a stdin pipe`);
  stdin.write("stop\n");
  await stdin.flush();
  stdin.end();
}

/** Waits for every member to exit and its output to be read; each must exit 0 (else its stderr shows). */
export async function expectCleanExits(members: GroupMember[]): Promise<void> {
  const codes = await Promise.all(members.map((m) => m.exited));
  const stderrs = await Promise.all(members.map((m) => m.stderr));
  await Promise.all(members.map((m) => m.drained));
  for (let i = 0; i < codes.length; i++) expect({ code: codes[i], stderr: codes[i] === 0 ? "" : stderrs[i] }).toEqual({ code: 0, stderr: "" });
}

/**
 * Waits until the members consumed `total` records together, each at least one; on timeout kills
 * them and fails with what each printed besides records and commits, its stderr and the broker log.
 */
export async function awaitAllConsuming(members: GroupMember[], total: number, ms: number, brokerLog: string): Promise<void> {
  try {
    await until(() => members.reduce((n, m) => n + m.consumed, 0) >= total && members.every((m) => m.consumed > 0), ms, `all ${members.length} members to consume`);
  } catch (e) {
    for (const m of members) m.proc.kill("SIGKILL");
    await Promise.all(members.map((m) => m.exited));
    const events = members.map((m) => `${m.name}: ${m.lines.filter((l) => l.event !== "records" && l.event !== "commit").map((l) => JSON.stringify(l)).join(" ")}`).join("\n");
    const stderr = (await Promise.all(members.map((m) => m.stderr))).join("\n---\n").slice(0, 6000);
    throw new Error(`${(e as Error).message} (consumed ${members.map((m) => `${m.name}=${m.consumed}/${m.lines.length} lines`).join(", ")})\n${events}\n${stderr}\nbroker log: ${brokerLog}`);
  }
}

/** SIGKILLs the member that consumed most (no LeaveGroup: its partitions move after its session times out). */
export async function killBusiest(members: GroupMember[]): Promise<GroupMember> {
  const victim = members.reduce((a, b) => (b.consumed > a.consumed ? b : a));
  victim.proc.kill("SIGKILL");
  await victim.exited;
  return victim;
}
