// startDashboard: the dashboard's HTTP server (hono on @hono/node-server)
// over two pools: the pages and the live feed read through the viewer's
// connection, the actions go through the operator's (none configured:
// actions off). Two logins rather than one login that may SET ROLE to an
// operator: a role that may SET ROLE holds the operator's rights on every
// connection it opens, so the pages' connection would too. Used by
// `rowflow dashboard` (src/cli/commands/dashboard.ts) and `rowflow dev`
// (the same URL for both). Binds 127.0.0.1 unless told otherwise (docs/dashboard.md).
import type { AddressInfo } from "node:net";

import { serve } from "@hono/node-server";

import { RunListener } from "../client/run-listener.js";
import { createPool } from "../db/connection.js";
import type { Queryable } from "../db/queryable.js";
import type { Logger } from "../definition/logger.js";
import { createApp } from "./app.js";
import { LiveFeed } from "./live.js";
import { isOperator } from "./queries.js";
import { makeGuard } from "./security.js";

export interface DashboardOptions {
  /** The database the pages read, best as a rowflow_viewer (read only). */
  connectionString: string;
  /**
   * The same database as a rowflow_operator, for the actions only; without
   * it the actions are off. (Default: none)
   */
  operatorConnectionString?: string | undefined;
  /** (Default: 127.0.0.1) */
  host?: string | undefined;
  /** (Default: 4000; 0 picks a free port) */
  port?: number | undefined;
  /** Required for actions when bound beyond localhost; when set, actions need it everywhere. */
  token?: string | undefined;
  logger?: Logger | undefined;
}

export interface Dashboard {
  /** http://host:port/ (with /login?token=… to open it with the token). */
  url: string;
  /** Whether actions are on, and if not, why. */
  actionsOff: string | null;
  close(): Promise<void>;
}

/** The actions' connection when none is configured: never reached (the guard refuses first). */
const noOperator: Queryable = {
  query: () => Promise.reject(new Error("no operator connection (--operator-url)")),
};

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const host = options.host ?? "127.0.0.1";
  const logger = options.logger ?? quiet;
  const pool = createPool({
    connectionString: options.connectionString,
    max: 5,
    applicationName: "rowflow dashboard",
  });
  const operatorPool =
    options.operatorConnectionString === undefined
      ? undefined
      : createPool({
          connectionString: options.operatorConnectionString,
          max: 2,
          applicationName: "rowflow dashboard (operator)",
        });
  try {
    const guard = makeGuard({
      host,
      token: options.token ?? null,
      operator: operatorPool === undefined ? "none" : await isOperator(operatorPool),
    });
    if (options.operatorConnectionString !== options.connectionString && (await isOperator(pool))) {
      // Not refused (rowflow dev passes one URL for both), but said.
      logger.warn(
        "the pages' connection may act as a rowflow operator; give the dashboard a rowflow_viewer for --database-url",
      );
    }
    const listener = new RunListener(options.connectionString, logger, pool);
    const feed = new LiveFeed(pool, listener, (e) =>
      logger.warn(`live feed stopped: ${e.message}`),
    );
    const app = createApp(pool, guard, feed, operatorPool ?? noOperator);
    const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, hostname: host, port: options.port ?? 4000 }, () =>
        resolve(s),
      );
      s.once("error", reject);
    });
    const port = (server.address() as AddressInfo).port;
    const shown = host.includes(":") ? `[${host}]` : host;
    return {
      url: `http://${shown}:${port}/`,
      actionsOff: guard.actionsOff,
      async close() {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Open event streams would keep close() waiting.
          (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        });
        await feed.close();
        await listener.close();
        await pool.end();
        await operatorPool?.end();
      },
    };
  } catch (error) {
    await pool.end();
    await operatorPool?.end();
    throw error;
  }
}
