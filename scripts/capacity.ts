/**
 * `bun run capacity -- (--data-dir DIR | --config FILE) [--seconds N] [--override k=v]...`: measures
 * this broker's ingress, egress and request throughput on this machine (src/tenant/capacity-probe.ts)
 * and stores it in the data dir, where tenant admission (`bun run tenants`) reads it.
 */
import { loadBrokerConfig } from "../src/config/broker-config.ts";
import { probeCapacity } from "../src/tenant/capacity-probe.ts";
import { writeCapacity } from "../src/tenant/capacity-store.ts";

const argv = process.argv.slice(2);
let dataDir: string | null = null;
let configFile: string | undefined;
let seconds = 5;
const overrides: string[] = [];
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  const v = argv[++i];
  if (v === undefined) {
    console.error(`${a} needs a value`);
    process.exit(2);
  }
  if (a === "--data-dir") dataDir = v;
  else if (a === "--config") configFile = v;
  else if (a === "--seconds") seconds = Number(v);
  else if (a === "--override") overrides.push(v);
  else {
    console.error(`unknown option ${a}`);
    process.exit(2);
  }
}
if (dataDir === null && configFile === undefined) {
  console.error("usage: bun run capacity -- (--data-dir DIR | --config FILE) [--seconds N] [--override key=value]...");
  process.exit(2);
}
if (!(seconds > 0)) {
  console.error("--seconds must be positive");
  process.exit(2);
}
const target = dataDir ?? loadBrokerConfig({ file: configFile, overrides }).dataDir;
const capacity = await probeCapacity({ seconds, configFile, overrides, log: (l) => console.log(l) });
writeCapacity(target, capacity);
console.log(`stored in ${target}: ingress ${(capacity.ingressBytesPerSec / 1048576).toFixed(1)} MiB/s, egress ${(capacity.egressBytesPerSec / 1048576).toFixed(1)} MiB/s, ${capacity.requestsPerSec} requests/s`);
