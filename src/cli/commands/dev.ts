import type { Command } from "commander";

import { runDev } from "../../dev/run-dev.js";
import { findConfigFile, loadConfig } from "../../worker/config.js";
import { openCliDatabase } from "../database.js";

interface DevCommandOptions {
  config?: string;
  databaseUrl?: string;
  once?: boolean;
}

export function registerDev(program: Command): void {
  program
    .command("dev")
    .description(
      "development mode: embedded Postgres (data in .rowflow/), migrations, the config's workflows and demo, a worker in this process, live progress",
    )
    .option("--config <path>", "config module (default: ./rowflow.config.ts, .mts, .js or .mjs)")
    .option(
      "--database-url <url>",
      "use this Postgres instead of the embedded one (default: $DATABASE_URL)",
    )
    .option("--once", "run the demo to completion, then exit (non-interactive)")
    .action(async (options: DevCommandOptions) => {
      const config = await loadConfig(findConfigFile(options.config));
      const verbose = program.opts<{ verbose?: boolean }>().verbose ?? false;
      const database = await openCliDatabase({
        databaseUrl: options.databaseUrl ?? config.connectionString,
        log: (line) => console.log(line),
      });
      const interrupted = new Promise((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
      try {
        process.exitCode = await runDev({
          database,
          config,
          once: options.once ?? false,
          verbose,
          interrupted,
        });
      } finally {
        await database.close();
      }
    });
}
