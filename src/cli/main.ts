import { Command } from "commander";

import { coerceError, RowflowError } from "../errors.js";
import { registerDev } from "./commands/dev.js";
import { registerGenerateMigration } from "./commands/generate-migration.js";
import { registerMigrate } from "./commands/migrate.js";
import { registerWorker } from "./commands/worker.js";

// commander: the most used Node CLI parser, typed, with subcommands and help
// generation, so no hand-written argv handling.
const program = new Command()
  .name("rowflow")
  .description("rowflow: database-centric workflows for Node.js")
  .option("--verbose", "print stack traces and causes of errors")
  .showHelpAfterError();

registerMigrate(program);
registerDev(program);
registerWorker(program);
registerGenerateMigration(program);

try {
  await program.parseAsync(process.argv);
} catch (caught) {
  const error = coerceError(caught);
  if (program.opts<{ verbose?: boolean }>().verbose) {
    console.error(error);
  } else {
    const code = error instanceof RowflowError ? ` [${error.code}]` : "";
    console.error(`rowflow: ${error.message.split("\n")[0]}${code}`);
  }
  process.exitCode = 1;
}
// Exit explicitly: a library's leftover timer or hook must not keep the
// process alive or change its exit code.
process.exit(process.exitCode ?? 0);
