/** `bun run users -- add|delete|list ...`: SCRAM users of a stopped broker's data dir (see src/auth/users-cli.ts). */
import { UsageError, parseUsersArgs, runUsersCommand } from "../src/auth/users-cli.ts";

try {
  for (const line of runUsersCommand(parseUsersArgs(process.argv.slice(2), process.env))) console.log(line);
} catch (e) {
  if (!(e instanceof UsageError)) throw e;
  console.error(e.message);
  process.exit(2);
}
