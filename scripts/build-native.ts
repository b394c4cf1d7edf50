/**
 * Builds Bunka's Rust N-API addon (native/) in release mode and installs it at
 * the fixed path native/bunka.node, which src/native/index.ts loads.
 *
 * Run by `bun run build:native` and by `bun install` (postinstall).
 *
 * - Plain `cargo build --release`: cargo's own fingerprinting makes a no-change
 *   run take well under a second. The artifact path is read from cargo's JSON
 *   messages, so CARGO_TARGET_DIR and per-OS library names (.so/.dylib/.dll)
 *   just work.
 * - The addon is installed by copy-to-temp + rename, so a process that has the
 *   old file mapped keeps a valid image, and the copy is skipped when the bytes
 *   are unchanged.
 * - Fails with a non-zero exit if cargo is missing or the build fails. Never
 *   downloads prebuilt binaries.
 */
import { copyFileSync, existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const CRATE_DIR = join(ROOT, "native");
const MANIFEST = join(CRATE_DIR, "Cargo.toml");
const OUT = join(CRATE_DIR, "bunka.node");
const CRATE_NAME = "bunka-native";

function fail(msg: string): never {
  console.error(`build:native: FAILED: ${msg}`);
  process.exit(1);
}

function findCargo(): string {
  const fromEnv = process.env.CARGO;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  const onPath = Bun.which("cargo");
  if (onPath) return onPath;
  const home = process.env.CARGO_HOME ?? join(process.env.HOME ?? "", ".cargo");
  const inHome = join(home, "bin", process.platform === "win32" ? "cargo.exe" : "cargo");
  if (existsSync(inHome)) return inHome;
  fail(
    "cargo not found (looked at $CARGO, PATH and ~/.cargo/bin). " +
      "Install a Rust toolchain (https://rustup.rs) and re-run `bun run build:native`.",
  );
}

interface CargoArtifact {
  reason: string;
  package_id?: string;
  target?: { name: string; kind: string[] };
  filenames?: string[];
  fresh?: boolean;
}

function main(): void {
  if (!existsSync(MANIFEST)) fail(`no crate manifest at ${MANIFEST}`);
  const cargo = findCargo();
  const started = performance.now();
  console.log(`build:native: ${cargo} build --release (crate ${relative(ROOT, CRATE_DIR)}/)`);

  const proc = Bun.spawnSync({
    cmd: [
      cargo,
      "build",
      "--release",
      "--manifest-path",
      MANIFEST,
      "--lib",
      "--message-format=json-render-diagnostics",
    ],
    cwd: CRATE_DIR,
    stdout: "pipe",
    stderr: "inherit", // cargo's progress and rendered errors go straight to the user
    env: process.env,
  });
  if (proc.exitCode !== 0) {
    fail(`cargo build exited with ${proc.exitCode ?? `signal ${proc.signalCode}`} (see errors above)`);
  }

  let artifact: string | undefined;
  let fresh = false;
  for (const line of proc.stdout.toString().split("\n")) {
    if (!line.startsWith("{")) continue;
    let msg: CargoArtifact;
    try {
      msg = JSON.parse(line) as CargoArtifact;
    } catch {
      continue;
    }
    if (msg.reason !== "compiler-artifact" || !msg.target?.kind.includes("cdylib")) continue;
    if (!msg.package_id?.includes(CRATE_NAME)) continue;
    artifact = msg.filenames?.find((f) => /\.(so|dylib|dll)$/.test(f));
    fresh = msg.fresh === true;
  }
  if (!artifact || !existsSync(artifact)) {
    fail("cargo succeeded but reported no cdylib artifact for " + CRATE_NAME);
  }

  const secs = ((performance.now() - started) / 1000).toFixed(2);
  const bytes = readFileSync(artifact);
  if (existsSync(OUT) && Buffer.compare(readFileSync(OUT), bytes) === 0) {
    console.log(
      `build:native: ${relative(ROOT, OUT)} is up to date ` +
        `(${fresh ? "nothing recompiled" : "rebuilt, identical output"}; ${secs}s)`,
    );
    return;
  }
  const tmp = `${OUT}.tmp-${process.pid}`;
  try {
    copyFileSync(artifact, tmp);
    renameSync(tmp, OUT);
  } catch (err) {
    rmSync(tmp, { force: true });
    fail(`could not install ${artifact} as ${OUT}: ${err instanceof Error ? err.message : String(err)}`);
  }
  console.log(
    `build:native: installed ${relative(ROOT, OUT)} (${(bytes.length / 1024).toFixed(0)} KiB, ` +
      `from ${relative(ROOT, artifact)}; ${fresh ? "cargo had nothing to recompile" : "compiled"} in ${secs}s)`,
  );
}

main();
