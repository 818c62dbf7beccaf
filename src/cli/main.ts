import { readFileSync } from "node:fs";

import { Command, CommanderError } from "commander";

import { coerceError, RowflowError } from "../errors.js";
import { registerAlerts } from "./commands/alerts.js";
import { registerDashboard } from "./commands/dashboard.js";
import { registerDev } from "./commands/dev.js";
import { registerGenerateMigration } from "./commands/generate-migration.js";
import { registerMigrate } from "./commands/migrate.js";
import { registerOperateActions } from "./commands/operate-actions.js";
import { registerOperateReads } from "./commands/operate-reads.js";
import { registerScheduleActions } from "./commands/schedule-actions.js";
import { registerSchedules } from "./commands/schedules.js";
import { registerSignal } from "./commands/signal.js";
import { registerTail } from "./commands/tail.js";
import { registerTasks } from "./commands/tasks.js";
import { registerWait } from "./commands/wait.js";
import { registerWorker } from "./commands/worker.js";
import { invocation, refusalLines, UsageError } from "./operate-support.js";
import { exitBySignal, receivedStopSignal } from "./stop-signals.js";

/**
 * commander reads any argument that starts with "-" as an option, so
 * `rowflow retention shop -1d` failed with "unknown option '-1d'". A minus
 * and a digit is a negative value where an argument was expected: the
 * error says that (still a usage error, exit 2).
 */
class RowflowCommand extends Command {
  override createCommand(name?: string): RowflowCommand {
    return new RowflowCommand(name);
  }

  unknownOption(flag: string): void {
    if (/^-\d/.test(flag)) {
      this.error(`error: '${flag}' is not an option, and no argument takes a negative value`, {
        code: "commander.unknownOption",
      });
    }
    (Command.prototype as unknown as { unknownOption(flag: string): void }).unknownOption.call(
      this,
      flag,
    );
  }
}

// commander: the most used Node CLI parser, typed, with subcommands and help
// generation, so no hand-written argv handling.
const program = new RowflowCommand()
  .name("rowflow")
  .description("rowflow: database-centric workflows for Node.js")
  .option("--verbose", "print stack traces and causes of errors")
  .version(packageVersion(), "-V, --version", "print rowflow's version")
  .showHelpAfterError()
  // Usage errors throw (commander has printed them) and exit 2, not 1.
  .exitOverride()
  // Named to other commands that find the embedded Postgres this one holds.
  .hook("preAction", (root, action) => {
    const parent = action.parent;
    invocation.command =
      parent && parent !== root ? `${parent.name()} ${action.name()}` : action.name();
  });

registerMigrate(program);
registerDev(program);
registerWorker(program);
registerGenerateMigration(program);
registerOperateReads(program);
registerOperateActions(program);
registerSchedules(program);
registerScheduleActions(program);
registerSignal(program);
registerTasks(program);
registerTail(program);
registerWait(program);
registerDashboard(program);
registerAlerts(program);

/** The package's version (src/cli and dist/cli are both two levels below package.json). */
function packageVersion(): string {
  const file = new URL("../../package.json", import.meta.url);
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}

try {
  await program.parseAsync(process.argv);
} catch (caught) {
  if (caught instanceof CommanderError) {
    process.exit(caught.exitCode === 0 ? 0 : 2);
  }
  const error = coerceError(caught);
  if (program.opts<{ verbose?: boolean }>().verbose) {
    console.error(error);
  } else {
    const code = error instanceof RowflowError ? ` [${error.code}]` : "";
    console.error(`rowflow: ${error.message.split("\n")[0]}${code}`);
    for (const line of refusalLines(error)) console.error(line);
  }
  process.exitCode = error instanceof UsageError ? 2 : 1;
}
// worker, dev and tail stopped by SIGINT/SIGTERM, drained and closed without
// an error: end by that signal (130/143 as shells report it), whether started
// by node or through npm/npx (docs/cli.md, "Exit codes"). A failed drain exits 1.
const signal = receivedStopSignal();
if (signal !== undefined && (process.exitCode ?? 0) === 0) await exitBySignal(signal);
// Exit explicitly: a library's leftover timer or hook must not keep the
// process alive or change its exit code.
process.exit(process.exitCode ?? 0);
