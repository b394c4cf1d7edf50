/**
 * Runs a TypeScript snippet in a child `bun` (for what must not happen in the test process: a
 * forced errno read at engine start, an rlimit, a crash). The snippet prints JSON as its last
 * stdout line, which is returned parsed; a non-zero exit throws with the child's stderr.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { trackTempDir } from "./temp-dirs.ts";

export const REPO_DIR = join(import.meta.dir, "..", "..");

export async function runChildScript(script: string, env: Record<string, string> = {}, shellPrefix = ""): Promise<any> {
  const file = join(trackTempDir(mkdtempSync(join(tmpdir(), "bunka-child-"))), "child.ts");
  writeFileSync(file, script);
  const cmd = shellPrefix ? ["bash", "-c", `${shellPrefix} exec "${process.execPath}" "${file}"`] : [process.execPath, file];
  const proc = Bun.spawn({
    cmd,
    cwd: REPO_DIR,
    env: { ...process.env, BUN_RUNTIME_TRANSPILER_CACHE_PATH: "0", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, errText, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`child exited ${code}: ${errText}\n${out}`);
  const lines = out.trim().split("\n");
  return JSON.parse(lines[lines.length - 1] as string);
}

/**
 * Runs `script` (TypeScript source) in a child Bun that is expected to SIGKILL itself after printing
 * one JSON line: returns that line, parsed; throws when the child ended any other way.
 */
export async function runSelfKillingChild(script: string): Promise<any> {
  const file = join(trackTempDir(mkdtempSync(join(tmpdir(), "bunka-child-"))), "child.ts");
  writeFileSync(file, script);
  const proc = Bun.spawn({ cmd: [process.execPath, file], cwd: REPO_DIR, stdout: "pipe", stderr: "pipe" });
  const [out, errText, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (proc.signalCode !== "SIGKILL") throw new Error(`child was not killed (exit ${code}, signal ${proc.signalCode}): ${errText}\n${out}`);
  const lines = out.trim().split("\n");
  return JSON.parse(lines[lines.length - 1] as string);
}
