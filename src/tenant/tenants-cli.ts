/**
 * `bun run tenants -- <command>`: tenants (logical clusters) of a data directory. The broker only
 * reads the tenant file (and re-reads it within a second of a change), so unlike `bun run users`
 * this works on a running broker too.
 *
 *   add <name> --units N        create a tenant (admission: all units must fit the measured capacity)
 *   set-units <name> --units N  resize (admission when growing)
 *   delete <name>               remove the tenant and its memberships (its data stays, hidden)
 *   assign <user> <tenant>      put a user in a tenant (also: bun run users -- add ... --tenant T)
 *   unassign <user>
 *   list
 * with --data-dir DIR or --config server.properties (its log.dirs and bunka.tenant.unit.* keys),
 * and --override key=value for single keys.
 */
import { loadBrokerConfig, type BrokerConfig } from "../config/broker-config.ts";
import { quotaConfig } from "../quota/quota-config.ts";
import { admit } from "./admission.ts";
import { readCapacity } from "./capacity-store.ts";
import { TenantStore } from "./tenant-store.ts";
import { scaleUnit, unitDefinition } from "./unit.ts";

export class TenantsUsageError extends Error {}

const USAGE = `usage: bun run tenants -- add <name> --units N | set-units <name> --units N | delete <name>
                       | assign <user> <tenant> | unassign <user> | list
       with --data-dir DIR or --config FILE [--override key=value]...
A running broker applies the change within a second.`;

export interface TenantsArgs {
  positional: string[];
  units: number | null;
  config: BrokerConfig;
}

export function parseTenantsArgs(argv: readonly string[]): TenantsArgs {
  const positional: string[] = [];
  const overrides: string[] = [];
  let units: number | null = null;
  let file: string | undefined;
  let dataDir: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new TenantsUsageError(`${a} needs a value`);
      return v;
    };
    if (a === "--units") units = Number(value());
    else if (a === "--data-dir") dataDir = value();
    else if (a === "--config") file = value();
    else if (a === "--override") overrides.push(value());
    else if (a === "-h" || a === "--help") throw new TenantsUsageError(USAGE);
    else if (a.startsWith("-")) throw new TenantsUsageError(`unknown option ${a}\n${USAGE}`);
    else positional.push(a);
  }
  if (dataDir === null && file === undefined) throw new TenantsUsageError(`--data-dir or --config is required\n${USAGE}`);
  if (dataDir !== null) overrides.unshift(`log.dirs=${dataDir}`);
  return { positional, units, config: loadBrokerConfig({ file, overrides }) };
}

/** Runs one command; returns the lines to print. Admission failures throw AdmissionError. */
export function runTenantsCommand(args: TenantsArgs): string[] {
  const { config } = args;
  const store = TenantStore.open(config.dataDir);
  const [command, a, b] = args.positional;
  const unit = unitDefinition(config);
  const admitTotal = (total: number) => admit(total, unit, readCapacity(config.dataDir), quotaConfig(config).maxConnections);
  const needUnits = () => {
    if (args.units === null) throw new TenantsUsageError(`${command}: --units is required`);
    return args.units;
  };
  const unitsOfOthers = (name: string) => store.list().filter((t) => t.name !== name).reduce((n, t) => n + t.units, 0);
  switch (command) {
    case "add": {
      if (!a) throw new TenantsUsageError("add: a tenant name is required");
      const units = needUnits();
      admitTotal(unitsOfOthers(a) + units);
      const t = store.add(a, units);
      store.saveSync();
      return [`tenant ${t.name} (id ${t.id}): ${t.units} units`];
    }
    case "set-units": {
      if (!a) throw new TenantsUsageError("set-units: a tenant name is required");
      const units = needUnits();
      const current = store.get(a)?.units ?? 0;
      if (units > current) admitTotal(unitsOfOthers(a) + units);
      store.setUnits(a, units);
      store.saveSync();
      return [`tenant ${a}: ${units} units`];
    }
    case "delete":
      if (!a) throw new TenantsUsageError("delete: a tenant name is required");
      store.delete(a);
      store.saveSync();
      return [`tenant ${a} deleted (its topics and groups stay on disk, visible only to super users)`];
    case "assign":
      if (!a || !b) throw new TenantsUsageError("assign: <user> <tenant> are required");
      store.assign(a, b);
      store.saveSync();
      return [`user ${a} -> tenant ${b}`];
    case "unassign":
      if (!a) throw new TenantsUsageError("unassign: a user name is required");
      if (!store.unassign(a)) throw new TenantsUsageError(`user ${a} belongs to no tenant`);
      store.saveSync();
      return [`user ${a} belongs to no tenant now`];
    case "list":
      return store.list().map((t) => {
        const l = scaleUnit(unit, t.units);
        const mib = (v: number) => (v / (1024 * 1024)).toFixed(1);
        return `${t.name}\tid=${t.id}\tunits=${t.units}\tingress=${mib(l.ingressBytesPerSec)}MiB/s\tegress=${mib(l.egressBytesPerSec)}MiB/s\t` +
          `requests=${l.requestsPerSec}/s\tconnections=${l.connections}\tpartitions=${l.partitions}\tusers=${store.usersOf(t.name).join(",")}`;
      });
    default:
      throw new TenantsUsageError(`unknown command ${command ?? ""}\n${USAGE}`);
  }
}
