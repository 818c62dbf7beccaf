import type { Command } from "commander";

import { findConfigFile, loadConfig } from "../../config/config.js";
import { openCliDatabase } from "../../config/open-database.js";
import { runDev } from "../../dev/run-dev.js";
import { stopSignals } from "../stop-signals.js";

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
      // The first SIGINT/SIGTERM drains (one during start-up, e.g. a first
      // run's initdb, stops right after it); a second exits at once (130) and
      // still takes the embedded Postgres down.
      const interrupted = stopSignals();
      const database = await openCliDatabase({
        databaseUrl: options.databaseUrl ?? config.connectionString,
        log: (line) => console.log(line),
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
