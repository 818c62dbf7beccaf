import type { Command } from "commander";

import { openCliDatabase } from "../../config/open-database.js";
import { waitForDatabase } from "../../db/session/wait-for-database.js";
import { duration } from "../parse-options.js";

interface MigrateCommandOptions {
  dryRun?: boolean;
  databaseUrl?: string;
  rolePrefix?: string;
  waitForDatabase?: number;
}

export function registerMigrate(program: Command): void {
  program
    .command("migrate")
    .description("apply graphile-worker's and rowflow's pending migrations")
    .option("--dry-run", "list the pending rowflow migration files, apply nothing")
    .option(
      "--role-prefix <prefix>",
      "prefix of rowflow's role names (<prefix>rowflow_app, …) when the migrations create them (default: $ROWFLOW_ROLE_PREFIX, else none)",
    )
    .option(
      "--database-url <url>",
      "Postgres connection string (default: $DATABASE_URL, else the embedded Postgres in .rowflow/)",
    )
    .option(
      "--wait-for-database <duration>",
      "retry a database that does not answer for up to this long (30s, 2m, …) before failing (default: fail at once)",
      duration,
    )
    .action(async (options: MigrateCommandOptions) => {
      // Loaded here, not at the top: graphile-worker's migrator takes ~0.3 s
      // to import, which every other command would pay at start.
      const { migrate } = await import("../../db/migrate.js");
      const log = (line: string) => console.log(line);
      const database = await openCliDatabase({
        databaseUrl: options.databaseUrl,
        log,
        command: "migrate",
      });
      try {
        if (options.waitForDatabase !== undefined) {
          // Orchestrated start-ups (compose starts the database and this
          // together): wait for the server as the worker does, but bounded.
          const note = (line: string) => console.error(`rowflow: ${line}`);
          await waitForDatabase({
            connectionString: database.connectionString,
            applicationName: "rowflow migrate",
            logger: { info: note, warn: note },
            firstDelay: 250,
            maxDelay: 5_000,
            signal: new AbortController().signal,
            timeoutMs: options.waitForDatabase,
          });
        }
        const result = await migrate({
          connectionString: database.connectionString,
          dryRun: options.dryRun ?? false,
          onApplied: (file) => log(`applied ${file}`),
          rolePrefix: options.rolePrefix ?? process.env.ROWFLOW_ROLE_PREFIX,
        });
        if (options.dryRun) {
          if (!result.graphileWorkerInstalled)
            log("graphile-worker schema: not installed (would be installed)");
          log(
            result.pending.length === 0
              ? "no pending rowflow migrations"
              : `pending rowflow migrations:\n${result.pending.map((f) => `  ${f}`).join("\n")}`,
          );
        } else if (result.applied.length === 0) {
          log("database is up to date; nothing to apply");
        } else {
          log(`applied ${result.applied.length} migration(s)`);
        }
      } finally {
        await database.close();
      }
    });
}
