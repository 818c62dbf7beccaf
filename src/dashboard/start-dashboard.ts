// startDashboard: the dashboard's HTTP server (hono on @hono/node-server)
// over one pool on the given database, and the live feed (live.ts). Used
// by `rowflow dashboard` (src/cli/commands/dashboard.ts) and callable from
// `rowflow dev`. Binds 127.0.0.1 unless told otherwise (docs/dashboard.md).
import type { AddressInfo } from "node:net";

import { serve } from "@hono/node-server";

import { RunListener } from "../client/run-listener.js";
import { createPool } from "../db/connection.js";
import type { Logger } from "../definition/logger.js";
import { createApp } from "./app.js";
import { LiveFeed } from "./live.js";
import { isOperator } from "./queries.js";
import { makeGuard } from "./security.js";

export interface DashboardOptions {
  /** The database, as a rowflow_viewer (read only) or a rowflow_operator (actions too). */
  connectionString: string;
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

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const host = options.host ?? "127.0.0.1";
  const logger = options.logger ?? quiet;
  const pool = createPool({
    connectionString: options.connectionString,
    max: 5,
    applicationName: "rowflow dashboard",
  });
  try {
    const guard = makeGuard({
      host,
      token: options.token ?? null,
      operator: await isOperator(pool),
    });
    const listener = new RunListener(options.connectionString, logger, pool);
    const feed = new LiveFeed(pool, listener, (e) =>
      logger.warn(`live feed stopped: ${e.message}`),
    );
    const app = createApp(pool, guard, feed);
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
      },
    };
  } catch (error) {
    await pool.end();
    throw error;
  }
}
