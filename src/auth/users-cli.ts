/**
 * `bun run users -- <command>`: SCRAM users of a data directory, edited offline (broker stopped),
 * the way Kafka's `kafka-storage format --add-scram` seeds the first users of a SASL-only cluster.
 * A running broker is managed over the wire instead (AlterUserScramCredentials, e.g. Kafka's
 * kafka-configs.sh --alter --add-config 'SCRAM-SHA-256=[password=...]' --entity-type users).
 *
 *   add <user> (--password <pw> | env BUNKA_USER_PASSWORD) [--mechanism M]... [--iterations N] [--tenant T]
 *   delete <user> [--mechanism M]...
 *   list
 * with --data-dir <dir> or --config <server.properties> (its log.dirs / log.dir).
 * Mechanisms default to both SCRAM-SHA-256 and SCRAM-SHA-512 (PLAIN logins check SHA-512).
 */
import { mkdirSync } from "node:fs";
import { loadBrokerConfig } from "../config/broker-config.ts";
import { CredentialStore } from "./credential-store.ts";
import { TenantStore } from "../tenant/tenant-store.ts";
import { SCRAM_PARAMS, isScramMechanism, type ScramMechanismName } from "./mechanisms.ts";
import { keysFromSaltedPassword, randomSalt, saltedPasswordSync } from "./scram-crypto.ts";

export const DEFAULT_ITERATIONS = 8192;

interface Args {
  command: string;
  user: string | null;
  password: string | null;
  mechanisms: ScramMechanismName[];
  iterations: number;
  dataDir: string;
  /** add: also make the user a member of this tenant (src/tenant). */
  tenant: string | null;
}

const USAGE = `usage: bun run users -- add <user> --password <pw> [--mechanism SCRAM-SHA-256|SCRAM-SHA-512]... [--iterations N] [--tenant T] (--data-dir DIR | --config FILE)
       bun run users -- delete <user> [--mechanism ...] (--data-dir DIR | --config FILE)
       bun run users -- list (--data-dir DIR | --config FILE)
Edit the data directory only while the broker is stopped.`;

export class UsageError extends Error {}

export function parseUsersArgs(argv: readonly string[], env: Record<string, string | undefined>): Args {
  const positional: string[] = [];
  const mechanisms: ScramMechanismName[] = [];
  let password = env.BUNKA_USER_PASSWORD ?? null;
  let iterations = DEFAULT_ITERATIONS;
  let dataDir: string | null = null;
  let configFile: string | null = null;
  let tenant: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === "--password") password = value();
    else if (a === "--mechanism") {
      const m = value().toUpperCase();
      if (!isScramMechanism(m)) throw new UsageError(`unknown mechanism ${m} (SCRAM-SHA-256 or SCRAM-SHA-512)`);
      mechanisms.push(m);
    } else if (a === "--iterations") iterations = Number(value());
    else if (a === "--data-dir") dataDir = value();
    else if (a === "--tenant") tenant = value();
    else if (a === "--config") configFile = value();
    else if (a === "-h" || a === "--help") throw new UsageError(USAGE);
    else if (a.startsWith("-")) throw new UsageError(`unknown option ${a}\n${USAGE}`);
    else positional.push(a);
  }
  if (dataDir === null && configFile !== null) dataDir = loadBrokerConfig({ file: configFile, overrides: [] }).dataDir;
  if (dataDir === null) throw new UsageError(`--data-dir or --config is required\n${USAGE}`);
  const [command, user] = positional;
  if (!command) throw new UsageError(USAGE);
  return { command, user: user ?? null, password, mechanisms, iterations, dataDir, tenant };
}

/** Runs one command; returns the lines to print. */
export function runUsersCommand(args: Args): string[] {
  const store = CredentialStore.open(args.dataDir);
  const mechs: ScramMechanismName[] = args.mechanisms.length > 0 ? args.mechanisms : ["SCRAM-SHA-256", "SCRAM-SHA-512"];
  switch (args.command) {
    case "list":
      return store.userNames().map((u) => `${u}\t${store.mechanismsOf(u).map((m) => `${m}(iterations=${store.get(u, m)!.iterations})`).join(" ")}`);
    case "add": {
      if (!args.user) throw new UsageError("add: a user name is required");
      if (!args.password) throw new UsageError("add: --password (or env BUNKA_USER_PASSWORD) is required");
      mkdirSync(args.dataDir, { recursive: true }); // like kafka-storage format, before the first start
      const tenants = args.tenant === null ? null : TenantStore.open(args.dataDir);
      if (tenants && !tenants.get(args.tenant!)) throw new UsageError(`no tenant ${args.tenant} (create it with bun run tenants -- add)`);
      for (const m of mechs) {
        const p = SCRAM_PARAMS[m];
        if (!Number.isInteger(args.iterations) || args.iterations < p.minIterations || args.iterations > p.maxIterations) {
          throw new UsageError(`--iterations must be within ${p.minIterations}..${p.maxIterations}`);
        }
        const salt = randomSalt();
        const keys = keysFromSaltedPassword(p, saltedPasswordSync(p, args.password, salt, args.iterations));
        store.put(args.user, m, { salt, iterations: args.iterations, ...keys });
      }
      store.saveSync();
      if (tenants) {
        tenants.assign(args.user, args.tenant!);
        tenants.saveSync();
      }
      const member = tenants ? `, tenant ${args.tenant}` : "";
      return [`${args.user}: set ${mechs.join(", ")} (${args.iterations} iterations${member})`];
    }
    case "delete": {
      if (!args.user) throw new UsageError("delete: a user name is required");
      const removed = mechs.filter((m) => store.remove(args.user!, m));
      if (removed.length === 0) throw new UsageError(`${args.user} has no ${mechs.join("/")} credential`);
      store.saveSync();
      return [`${args.user}: removed ${removed.join(", ")}`];
    }
    default:
      throw new UsageError(`unknown command ${args.command}\n${USAGE}`);
  }
}
