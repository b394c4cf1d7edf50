/** `bun run tenants -- add|set-units|delete|assign|unassign|list ...` (see src/tenant/tenants-cli.ts). */
import { AdmissionError } from "../src/tenant/admission.ts";
import { TenantError } from "../src/tenant/tenant-store.ts";
import { TenantsUsageError, parseTenantsArgs, runTenantsCommand } from "../src/tenant/tenants-cli.ts";

try {
  for (const line of runTenantsCommand(parseTenantsArgs(process.argv.slice(2)))) console.log(line);
} catch (e) {
  if (e instanceof AdmissionError) {
    console.error(`refused: ${e.message}`);
    process.exit(3);
  }
  if (!(e instanceof TenantsUsageError) && !(e instanceof TenantError)) throw e;
  console.error(e.message);
  process.exit(2);
}
