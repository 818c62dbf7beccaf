// `rowflow dashboard`: the web dashboard (src/dashboard/) on the command's
// database (--database-url, $DATABASE_URL, else the embedded Postgres) until
// SIGINT/SIGTERM; its actions through --operator-url (none: actions off).
// Prints its URL on stdout; with --token the URL opens the login that keeps
// the token in a cookie.
import type { Command } from "commander";

import { openCliDatabase } from "../../config/open-database.js";
import { startDashboard } from "../../dashboard/start-dashboard.js";
import { databaseOption, type DbOptions, invocation } from "../operate-support.js";
import { stopSignals } from "../stop-signals.js";

interface DashboardCliOptions extends DbOptions {
  host: string;
  port: string;
  token?: string;
  operatorUrl?: string;
}

function port(value: string): string {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new Error(`bad port ${value}`);
  return value;
}

export function registerDashboard(program: Command): void {
  program
    .command("dashboard")
    .description("serve the web dashboard: runs, DAGs, timelines, inbox, actions")
    .option(
      "--host <host>",
      "address to bind (beyond localhost, actions need --token)",
      "127.0.0.1",
    )
    .option("--port <port>", "port to listen on (0: any free one)", port, "4000")
    .option(
      "--token <token>",
      "token that actions need (default: $ROWFLOW_DASHBOARD_TOKEN); required for actions beyond localhost",
    )
    .option(
      "--operator-url <url>",
      "connection string of a rowflow_operator for the actions (default: $ROWFLOW_OPERATOR_URL); without one, actions are off",
    )
    .option(...databaseOption)
    .action(async (options: DashboardCliOptions) => {
      const database = await openCliDatabase({
        databaseUrl: options.databaseUrl,
        log: (line) => console.error(line),
        command: invocation.command,
      });
      try {
        const token = options.token ?? process.env.ROWFLOW_DASHBOARD_TOKEN;
        const operatorUrl = options.operatorUrl ?? process.env.ROWFLOW_OPERATOR_URL;
        const dashboard = await startDashboard({
          connectionString: database.connectionString,
          host: options.host,
          port: Number(options.port),
          token: token === "" ? undefined : token,
          operatorConnectionString: operatorUrl === "" ? undefined : operatorUrl,
          logger: {
            debug() {},
            info() {},
            warn: (m) => console.error(`rowflow: ${m}`),
            error: (m) => console.error(`rowflow: ${m}`),
          },
        });
        console.log(`rowflow dashboard: ${dashboard.url}`);
        if (dashboard.actionsOff !== null)
          console.error(`rowflow: read-only: ${dashboard.actionsOff}`);
        else if (token) console.error(`rowflow: open ${dashboard.url}login?token=… to act`);
        await stopSignals();
        await dashboard.close();
      } finally {
        await database.close();
      }
    });
}
