import type { Command } from "commander";

import { findConfigFile, loadConfig } from "../../config/config.js";
import { openCliDatabase } from "../../config/open-database.js";
import type { WorkerMetricsOptions } from "../../worker/worker-options.js";
import { UsageError } from "../operate-support.js";
import { duration, portNumber, positiveInteger } from "../parse-options.js";
import { stopSignals } from "../stop-signals.js";

interface WorkerCommandOptions {
  config?: string;
  databaseUrl?: string;
  concurrency?: number;
  waitForDatabase?: number;
  alertWebhook?: string;
  metricsPort?: number;
  metricsHost?: string;
}

export function registerWorker(program: Command): void {
  program
    .command("worker")
    .description(
      "run step handlers: loads rowflow.config.ts (.mts, .js or .mjs) and processes jobs until SIGTERM/SIGINT",
    )
    .option(
      "--config <path>",
      "config module exporting tasks, workflows and worker options (default: ./rowflow.config.ts, .mts, .js or .mjs)",
    )
    .option(
      "--database-url <url>",
      "Postgres connection string (default: the config's, else $DATABASE_URL, else the embedded Postgres in .rowflow/)",
    )
    .option(
      "--concurrency <n>",
      "handlers running at once (default: the config's, else 10)",
      positiveInteger,
    )
    .option(
      "--wait-for-database <duration>",
      "give up after this long (30s, 2m, …) when the database does not answer at start, exiting 1 (default: the config's worker.waitForDatabase, else keep retrying)",
      duration,
    )
    .option(
      "--alert-webhook <url>",
      "POST a JSON event to this URL when a run fails (default: $ROWFLOW_ALERT_WEBHOOK, else the config's worker.alerts.webhook; docs/observability.md)",
    )
    .option(
      "--metrics-port <port>",
      "serve Prometheus metrics at http://127.0.0.1:<port>/metrics (0: any free port, printed at start; default: the config's worker.metrics, else none)",
      portNumber,
    )
    .option(
      "--metrics-host <host>",
      "address the metrics endpoint binds to (default: 127.0.0.1; needs --metrics-port or the config's worker.metrics.port)",
    )
    .action(async (options: WorkerCommandOptions) => {
      // Loaded here, not at the top: graphile-worker and the worker runtime
      // take ~1.5 s to import, which every other command would pay at start.
      const { createWorker } = await import("../../worker/create-worker.js");
      const file = findConfigFile(options.config);
      const config = await loadConfig(file);
      const metrics = metricsOptions(options, config.worker?.metrics);
      // Stop on the first SIGTERM/SIGINT (graceful: handlers get the grace
      // period); a second one exits at once.
      const signalled = stopSignals();
      const database = await openCliDatabase({
        databaseUrl: options.databaseUrl ?? config.connectionString,
        log: (line) => console.error(line),
        command: "worker",
        share: true,
      });
      if (database.embedded) {
        // As rowflow dev does: the server is this command's, on a port picked
        // at start, and psql in a second terminal needs its URL.
        console.error(`  psql "${database.connectionString}"`);
        console.error(
          "rowflow commands started in this directory (npx rowflow runs, show, migrate, …) use this database while this worker runs.",
        );
      }
      // The URL may hold a secret: from the environment rather than a flag that `ps` shows.
      const webhook = options.alertWebhook ?? process.env.ROWFLOW_ALERT_WEBHOOK;
      try {
        const worker = createWorker({
          ...config.worker,
          ...(webhook ? { alerts: { ...config.worker?.alerts, webhook } } : {}),
          ...(options.concurrency ? { concurrency: options.concurrency } : {}),
          ...(options.waitForDatabase === undefined
            ? {}
            : { waitForDatabase: options.waitForDatabase }),
          ...(metrics ? { metrics } : {}),
          connectionString: database.connectionString,
          tasks: config.tasks,
          workflows: config.workflows,
          schedules: config.schedules,
        });
        const started = worker.start();
        void started.then(
          () => {
            if (worker.metricsUrl) console.error(`rowflow worker: metrics at ${worker.metricsUrl}`);
          },
          () => {},
        );
        const first = await Promise.race([
          started.then(() => undefined),
          signalled,
          worker.stopped.then(() => undefined),
        ]);
        if (first === undefined) await Promise.race([signalled, worker.stopped]);
        await worker.stop();
        await started.catch((error: unknown) => {
          if (first === undefined) throw error;
        });
      } finally {
        await database.close();
      }
    });
}

/** The config's `worker.metrics` with the command line's --metrics-port / --metrics-host over it. */
function metricsOptions(
  options: WorkerCommandOptions,
  configured: WorkerMetricsOptions | undefined,
): WorkerMetricsOptions | undefined {
  if (options.metricsPort === undefined && options.metricsHost === undefined) return configured;
  const port = options.metricsPort ?? configured?.port;
  if (port === undefined) {
    throw new UsageError(
      "--metrics-host needs --metrics-port (or worker.metrics.port in the config)",
    );
  }
  return {
    ...configured,
    port,
    ...(options.metricsHost === undefined ? {} : { host: options.metricsHost }),
  };
}
