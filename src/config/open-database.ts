import path from "node:path";

import {
  type EmbeddedPostgresServer,
  startEmbeddedPostgres,
} from "../embedded/embedded-postgres.js";
import { publishOwner, runningOwner } from "../embedded/server-owner.js";

/** Where the CLI keeps its embedded Postgres when no DATABASE_URL is given. */
export const defaultEmbeddedDir = ".rowflow/pgdata";
/** Port the embedded Postgres tries first, so the printed psql command stays the same. */
export const defaultEmbeddedPort = 54329;

/** A database for one CLI command: the given URL, or the embedded default. */
export interface CliDatabase {
  connectionString: string;
  /** The embedded server this command started, if any. */
  embedded: EmbeddedPostgresServer | undefined;
  /** Stops the embedded server, if one was started. */
  close(): Promise<void>;
}

/**
 * Uses `--database-url`, else `DATABASE_URL`, else the embedded Postgres whose
 * data persists in `.rowflow/pgdata` (created on first use): the server a
 * running `rowflow dev` or `rowflow worker` in this directory started, else
 * one this command starts. With `share`, a server this command starts is
 * offered to the others while it runs (long-running commands).
 */
export async function openCliDatabase(options: {
  databaseUrl?: string | undefined;
  log: (line: string) => void;
  /** The command, named to the others when `share` is set. */
  command?: string;
  share?: boolean;
}): Promise<CliDatabase> {
  const url = options.databaseUrl ?? process.env.DATABASE_URL;
  if (url) return { connectionString: url, embedded: undefined, close: async () => {} };
  const dataDir = path.resolve(defaultEmbeddedDir);
  const owner = await runningOwner(dataDir);
  if (owner) {
    options.log(
      `No DATABASE_URL: using the embedded Postgres of the running \`rowflow ${owner.command}\` (pid ${owner.pid}): ${owner.connectionString}`,
    );
    return { connectionString: owner.connectionString, embedded: undefined, close: async () => {} };
  }
  options.log(`No DATABASE_URL: using the embedded Postgres in ${defaultEmbeddedDir}`);
  const server = await startEmbeddedPostgres({ dataDir, preferredPort: defaultEmbeddedPort });
  const connectionString = server.connectionString("postgres");
  const unpublish = options.share
    ? await publishOwner(dataDir, { command: options.command ?? "rowflow", connectionString })
    : () => {};
  return {
    connectionString,
    embedded: server,
    close: async () => {
      unpublish();
      await server.stop();
    },
  };
}
