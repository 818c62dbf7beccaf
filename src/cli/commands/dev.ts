import path from "node:path";

import { type Command, InvalidArgumentError, Option } from "commander";

import { findConfigFile, loadConfig } from "../../config/config.js";
import { openCliDatabase } from "../../config/open-database.js";
import { stopSignals } from "../stop-signals.js";

interface DevCommandOptions {
  config?: string;
  databaseUrl?: string;
  once?: boolean;
  /** false with --no-demo. */
  demo: boolean;
  /** false with --no-dashboard. */
  dashboard: boolean;
  dashboardPort?: number;
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
      "use this Postgres instead of the embedded one (default: the config's connectionString, else $DATABASE_URL, else the embedded Postgres in .rowflow/)",
    )
    .option(
      "--no-demo",
      "only the migrated database and a worker for the config, kept running: no dev setup, attachments or demo",
    )
    .addOption(
      new Option("--once", "run the demo to completion, then exit (non-interactive)").conflicts(
        "demo",
      ),
    )
    .option("--no-dashboard", "do not serve the dashboard (it is off with --once)")
    .option(
      "--dashboard-port <port>",
      "the dashboard's port on 127.0.0.1 (default: 4000, else any free port)",
      port,
    )
    .action(async (options: DevCommandOptions) => {
      // Loaded here, not at the top: the dev runtime (worker, embedded
      // Postgres) takes ~2 s to import, which every other command would pay.
      const { runDev } = await import("../../dev/run-dev.js");
      const configFile = findConfigFile(options.config);
      const config = await loadConfig(configFile);
      const verbose = program.opts<{ verbose?: boolean }>().verbose ?? false;
      // The first SIGINT/SIGTERM drains (one during start-up, e.g. a first
      // run's initdb, stops right after it); a second exits at once (130) and
      // still takes the embedded Postgres down.
      const interrupted = stopSignals();
      const database = await openCliDatabase({
        databaseUrl: options.databaseUrl ?? config.connectionString,
        log: (line) => console.log(line),
        command: "dev",
        share: true,
      });
      try {
        process.exitCode = await runDev({
          database,
          config,
          configFile: shortPath(configFile),
          demo: options.demo,
          once: options.once ?? false,
          dashboard: options.dashboard && !options.once ? (options.dashboardPort ?? 4000) : null,
          verbose,
          interrupted,
        });
      } finally {
        await database.close();
      }
    });
}

/** commander parser of a port number. */
function port(value: string): number {
  if (!/^\d{1,5}$/.test(value.trim()) || Number(value) > 65535) {
    throw new InvalidArgumentError("expected a port number.");
  }
  return Number(value);
}

/** `file` relative to the current directory when it is under it, else absolute. */
function shortPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : file;
}
