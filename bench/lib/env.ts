/**
 * Describes where a benchmark runs: machine, kernel, Bun, and the filesystem under a directory
 * (fsync cost differs by orders of magnitude between tmpfs, a virtual disk and real hardware).
 * Also reads a process's CPU time from /proc, to attribute CPU per operation to the broker.
 */
import { cpus } from "node:os";
import { readFileSync } from "node:fs";

function sh(args: string[]): string {
  try {
    const r = Bun.spawnSync(args, { stdout: "pipe", stderr: "pipe" });
    return r.stdout.toString().trim();
  } catch {
    return "";
  }
}

export interface Environment {
  date: string;
  cores: number;
  cpuModel: string;
  kernel: string;
  bun: string;
  dataDir: string;
  fsType: string;
  device: string;
}

export function describeEnvironment(dataDir: string): Environment {
  const df = sh(["df", "-T", dataDir]).split("\n")[1]?.split(/\s+/) ?? [];
  return {
    date: new Date().toISOString(),
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    kernel: sh(["uname", "-r"]),
    bun: Bun.version,
    dataDir,
    // df names ext4 as such; `stat -f` reports the shared ext2/ext3/ext4 magic as "ext2/ext3".
    fsType: `${df[1] ?? "unknown"} (stat -f: ${sh(["stat", "-f", "-c", "%T", dataDir]) || "?"})`,
    device: df[0] ?? "unknown",
  };
}

const CLK_TCK = 100; // USER_HZ on Linux

/** User+system CPU time of a process in ms (from /proc/PID/stat), or NaN off Linux. */
export function processCpuMs(pid: number): number {
  return statCpuMs(`/proc/${pid}/stat`);
}

/** CPU time (user + system, ms) of one thread of a process; its main (JS) thread has tid = pid. */
export function threadCpuMs(pid: number, tid: number): number {
  return statCpuMs(`/proc/${pid}/task/${tid}/stat`);
}

/**
 * The fields of a /proc/<pid>/stat (or task stat) line after the command name, which may itself
 * hold spaces and parentheses: element 0 is field 3 (state), element 1 field 4 (parent pid), and
 * so on. Throws when the file cannot be read (the process is gone).
 */
export function procStatFields(path: string): string[] {
  const stat = readFileSync(path, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

function statCpuMs(path: string): number {
  try {
    const fields = procStatFields(path);
    // utime is field 14, stime field 15
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}
