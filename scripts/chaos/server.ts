// The server the chaos scenarios run on: DATABASE_URL's, or an embedded
// Postgres with durable settings (fsync and synchronous_commit on: a
// restart must not lose a committed step) that the script owns and can
// restart. DATABASE_URL's server can be restarted too when the script is
// given its data directory and pg_ctl (--data-dir, --pg-ctl); otherwise the
// pg-restart scenario is skipped with the reason.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { migrate } from "../../src/db/migrate.js";
import {
  type EmbeddedPostgresServer,
  startEmbeddedPostgres,
} from "../../src/embedded/embedded-postgres.js";
import { withDatabase } from "../bench/database.js";
import { query } from "../bench/pg-client.js";

const run = promisify(execFile);

export type ShutdownMode = "fast" | "immediate";

/** Restarts the server: stopped in `mode`, started again on the same port and data. */
export type Restart = (mode: ShutdownMode) => Promise<void>;

export interface ChaosServer {
  description: string;
  adminUrl: string;
  /** Set when the script controls the server; else why not (`skipReason`). */
  restart: Restart | undefined;
  skipReason: string | undefined;
  /** A new migrated database; `drop()` removes it. */
  freshDatabase(label: string): Promise<{ url: string; drop(): Promise<void> }>;
  stop(): Promise<void>;
}

export async function openChaosServer(options: {
  /** A server to use instead of an embedded one (npm run chaos: DATABASE_URL). */
  databaseUrl: string | undefined;
  dataDir?: string | undefined;
  pgCtl?: string | undefined;
}): Promise<ChaosServer> {
  const url = options.databaseUrl;
  if (url) {
    const { dataDir, pgCtl } = options;
    const restart =
      dataDir && pgCtl ? (mode: ShutdownMode) => pgCtlRestart(pgCtl, dataDir, mode) : undefined;
    return withDatabases({
      description: `DATABASE_URL${restart ? ` (restarted with ${pgCtl} -D ${dataDir})` : ""}`,
      adminUrl: url,
      restart,
      skipReason: restart
        ? undefined
        : "DATABASE_URL's server is not the script's to restart: pass --data-dir <its data directory> and --pg-ctl <path of pg_ctl> (run as the data directory's owner), or unset DATABASE_URL for the embedded server",
      stop: async () => {},
    });
  }
  const parent = await mkdtemp(path.join(tmpdir(), "rowflow-chaos-"));
  await chmod(parent, 0o755); // as root, the postgres user must be able to enter it
  const dataDir = path.join(parent, "pgdata");
  let server: EmbeddedPostgresServer = await startEmbeddedPostgres({ dataDir, persistent: true });
  const port = server.port;
  return withDatabases({
    description: `embedded Postgres (port ${port}, durable settings)`,
    adminUrl: server.connectionString("postgres"),
    restart: async (mode) => {
      await stopEmbedded(server, mode);
      server = await startEmbeddedPostgres({ dataDir, persistent: true, preferredPort: port });
      if (server.port !== port) throw new Error(`port ${port} was taken during the restart`);
    },
    skipReason: undefined,
    stop: async () => {
      await server.stop();
      await rm(parent, { recursive: true, force: true });
    },
  });
}

function withDatabases(base: Omit<ChaosServer, "freshDatabase">): ChaosServer {
  const runId = randomBytes(3).toString("hex");
  let n = 0;
  return {
    ...base,
    async freshDatabase(label) {
      const name = `rowflow_chaos_${runId}_${++n}_${label.replace(/[^a-z0-9]/g, "_")}`;
      await query(base.adminUrl, `create database ${name}`);
      const url = withDatabase(base.adminUrl, name);
      await migrate({ connectionString: url });
      return {
        url,
        drop: async () => {
          await query(base.adminUrl, `drop database if exists ${name} with (force)`);
        },
      };
    },
  };
}

/**
 * Immediate mode is SIGQUIT to the postmaster (a crash: WAL recovery at the
 * next start); the handle's stop() then waits for its exit (it sends SIGINT,
 * fast mode, which alone is the fast restart; a postmaster already shutting
 * down immediately ignores it). The exit listener is in place before the
 * exit can be seen, so stop() does not wait forever.
 */
async function stopEmbedded(server: EmbeddedPostgresServer, mode: ShutdownMode): Promise<void> {
  if (mode === "immediate") {
    const pidFile = await readFile(path.join(server.dataDir, "postmaster.pid"), "utf8");
    process.kill(Number(pidFile.split("\n")[0]), "SIGQUIT");
  }
  await server.stop();
}

/** `pg_ctl restart -m mode`: keeps the server's options (postmaster.opts); as root, run as the data directory's owner. */
async function pgCtlRestart(pgCtl: string, dataDir: string, mode: ShutdownMode): Promise<void> {
  const args = [
    "restart",
    "-D",
    dataDir,
    "-m",
    mode,
    "-w",
    "-l",
    path.join(dataDir, "chaos-restart.log"),
  ];
  if (userInfo().uid !== 0) {
    await run(pgCtl, args);
    return;
  }
  const { uid } = await stat(dataDir);
  const { stdout } = await run("id", ["-nu", String(uid)]);
  await run("runuser", ["-u", stdout.trim(), "--", pgCtl, ...args]);
}
