import path from "node:path";

import {
  type EmbeddedPostgresServer,
  startEmbeddedPostgres,
} from "../embedded/embedded-postgres.js";

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
 * Uses `--database-url`, else `DATABASE_URL`, else starts the embedded
 * Postgres whose data persists in `.rowflow/pgdata` (created on first use).
 */
export async function openCliDatabase(options: {
  databaseUrl?: string | undefined;
  log: (line: string) => void;
}): Promise<CliDatabase> {
  const url = options.databaseUrl ?? process.env.DATABASE_URL;
  if (url) return { connectionString: url, embedded: undefined, close: async () => {} };
  const dataDir = path.resolve(defaultEmbeddedDir);
  options.log(`No DATABASE_URL: using the embedded Postgres in ${defaultEmbeddedDir}`);
  const server = await startEmbeddedPostgres({ dataDir, preferredPort: defaultEmbeddedPort });
  const connectionString = server.connectionString("postgres");
  return { connectionString, embedded: server, close: () => server.stop() };
}
