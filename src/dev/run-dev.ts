import type pg from "pg";

import type { RowflowConfig } from "../config/config.js";
import type { CliDatabase } from "../config/open-database.js";
import { type Dashboard, startDashboard } from "../dashboard/start-dashboard.js";
import { createPool } from "../db/connection.js";
import { migrate } from "../db/migrate.js";
import { syncOrCheckSchedule } from "../db/schedules/define-schedule.js";
import type { Logger } from "../definition/logger.js";
import { syncWorkflows } from "../definition/sync.js";
import { createWorker } from "../worker/create-worker.js";
import { type AttachableWorkflow, attachDeclared } from "./attach-declared.js";
import { printBanner } from "./banner.js";
import { pollUntil } from "./poll-until.js";
import { formatProgress, ProgressDisplay } from "./progress.js";
import { allFinished, readRunCounts } from "./run-counts.js";

export interface RunDevOptions {
  database: CliDatabase;
  config: RowflowConfig;
  /** The config module's path, as the user gave it (for the banner). */
  configFile: string;
  /**
   * Run the config's dev hooks (setup, demo) and attach its declared
   * workflows; false: only the migrated database and a worker for the config,
   * which defines its workflows as `rowflow worker` does.
   */
  demo: boolean;
  /** Run the demo to completion, then exit. */
  once: boolean;
  /** Serve the dashboard on 127.0.0.1 at this port (taken: any free one); null: not. */
  dashboard: number | null;
  verbose: boolean;
  /** Resolves when the user asks to stop (Ctrl-C). */
  interrupted: Promise<unknown>;
}

/**
 * `rowflow dev`: migrates, runs the config's dev setup, defines and attaches
 * its workflows, starts a worker in this process, runs the demo and shows
 * progress until interrupted (or, with `once`, until the demo's runs finish).
 * Returns the process exit code.
 */
export async function runDev(options: RunDevOptions): Promise<number> {
  const { database, config } = options;
  const display = new ProgressDisplay();
  const say = (line: string) => display.log(line);
  await migrate({ connectionString: database.connectionString });
  const pool = createPool({
    connectionString: database.connectionString,
    applicationName: "rowflow dev",
  });
  let worker: ReturnType<typeof createWorker> | undefined;
  let dashboard: Dashboard | undefined;
  try {
    const hooks = options.demo ? (config.dev ?? {}) : {};
    if (options.demo) {
      await hooks.setup?.(pool);
      const workflows = (config.workflows ?? []) as readonly (AttachableWorkflow & {
        spec: object;
      })[];
      const defined = await syncWorkflows(pool, workflows as never);
      for (const { name, version } of defined) say(`workflow ${name} v${version}`);
      // As the worker would with syncWorkflows (it is off here: the workflows are defined above).
      for (const schedule of config.schedules ?? []) {
        await syncOrCheckSchedule(pool, schedule);
        say(
          `schedule ${schedule.name} (${schedule.cron}, ${schedule.timezone}) → ${schedule.workflow}`,
        );
      }
      for (const line of await attachDeclared(pool, workflows)) say(`attached ${line}`);
    }

    const since = await databaseNow(pool);
    worker = createWorker({
      ...config.worker,
      connectionString: database.connectionString,
      tasks: config.tasks,
      workflows: config.workflows,
      schedules: config.schedules,
      // Without the demo, the worker defines the config's workflows itself.
      syncWorkflows: !options.demo,
      logger: config.worker?.logger ?? displayLogger(say, options.verbose),
    });
    await worker.start();
    dashboard =
      options.dashboard === null ? undefined : await openDashboard(database, options.dashboard);
    printBanner(say, {
      database,
      configFile: options.configFile,
      tasks: worker.tasks,
      demo: options.demo ? { tryInPsql: hooks.tryInPsql } : undefined,
      once: options.once,
      dashboardUrl: dashboard?.url,
    });

    const refresh = async () => display.update(formatProgress(await readRunCounts(pool, since)));
    const timer = setInterval(() => void refresh().catch(() => {}), 250);
    try {
      const demo = (hooks.demo ?? (async () => {}))(pool, {
        until: (check, what, timeoutMs) =>
          pollUntil(check, what, { timeoutMs: timeoutMs ?? 60_000 }),
        log: say,
      });
      if (options.once) {
        const finished = (async () => {
          await demo;
          await pollUntil(
            async () => allFinished(await readRunCounts(pool, since)),
            "the demo's runs to finish",
            {
              timeoutMs: 120_000,
            },
          );
          return true;
        })();
        // Ctrl-C before the demo is done: drain; the CLI then ends by the
        // signal, as without --once (130/143 as shells report it).
        if (!(await Promise.race([finished, options.interrupted.then(() => false)]))) {
          finished.catch(() => {}); // the demo is abandoned with the pool
          say("stopping: draining the worker…");
          return 0;
        }
        await refresh();
        say("demo finished: every run reached a final state");
      } else {
        demo.catch((error: unknown) => say(`demo failed: ${(error as Error).message}`));
        await options.interrupted;
        say("stopping: draining the worker…");
      }
    } finally {
      clearInterval(timer);
    }
    return 0;
  } finally {
    await dashboard?.close();
    await worker?.stop();
    await pool.end();
  }
}

/** The dashboard on the dev database, at `port` or (taken) any free port. */
async function openDashboard(database: CliDatabase, port: number): Promise<Dashboard> {
  try {
    return await startDashboard(dashboardOptions(database, port));
  } catch (error) {
    if ((error as { code?: unknown }).code !== "EADDRINUSE") throw error;
    return startDashboard(dashboardOptions(database, 0));
  }
}

/** The dev database serves as both the pages' and the actions' connection. */
const dashboardOptions = (database: CliDatabase, port: number) => ({
  connectionString: database.connectionString,
  operatorConnectionString: database.connectionString,
  port,
});

async function databaseNow(pool: pg.Pool): Promise<Date> {
  const { rows } = await pool.query<{ now: Date }>("select now() as now");
  return rows[0]?.now ?? new Date();
}

function displayLogger(say: (line: string) => void, verbose: boolean): Logger {
  const line = (level: string) => (message: string, meta?: Record<string, unknown>) =>
    say(
      `[${level}] ${message}${meta && Object.keys(meta).length ? ` ${JSON.stringify(meta)}` : ""}`,
    );
  const ignore = () => {};
  return {
    debug: verbose ? line("debug") : ignore,
    info: verbose ? line("info") : ignore,
    warn: line("warn"),
    error: line("error"),
  };
}
