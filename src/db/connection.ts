import pg from "pg";
import { parse as parseConnectionString } from "pg-connection-string";

import { ConnectionError } from "../errors.js";
import { registerHandle } from "../internal/open-handles.js";

/** Where a connection goes, for messages (never includes the password). */
export interface ConnectionTarget {
  host: string;
  port: number;
  database: string;
  user: string;
}

/**
 * Parses a connection string and checks that it names a server. Throws a
 * `ConnectionError` with a one-line message when it is malformed.
 */
export function parseConnectionTarget(connectionString: string): ConnectionTarget {
  if (!/^postgres(ql)?:\/\//.test(connectionString)) {
    throw new ConnectionError(
      `malformed database URL: expected postgres://user@host:port/database, got "${redact(connectionString)}"`,
    );
  }
  let parsed: ReturnType<typeof parseConnectionString>;
  try {
    parsed = parseConnectionString(connectionString);
  } catch (error) {
    throw new ConnectionError(
      `malformed database URL "${redact(connectionString)}": ${(error as Error).message}`,
      { cause: error },
    );
  }
  const port = parsed.port ? Number(parsed.port) : 5432;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new ConnectionError(`malformed database URL "${redact(connectionString)}": bad port`);
  }
  return {
    host: parsed.host ?? "localhost",
    port,
    database: parsed.database ?? parsed.user ?? "postgres",
    user: parsed.user ?? "postgres",
  };
}

/** Hides the password in a connection string. */
export function redact(connectionString: string): string {
  return connectionString.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@");
}

/** `host:port/database` for log lines and errors. */
export function describeTarget(target: ConnectionTarget): string {
  return `${target.host}:${target.port}/${target.database}`;
}

const connectionErrorCodes = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "57P03", // cannot_connect_now (server starting up or shutting down)
  "3D000", // invalid_catalog_name (database does not exist)
  "28P01", // invalid_password
  "28000", // invalid_authorization_specification
]);

/** True when `error` means the server could not be reached or refused us. */
export function isConnectionFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && connectionErrorCodes.has(code)) return true;
  const message = error instanceof Error ? error.message : "";
  return /Connection terminated|timeout expired|connect ECONN/.test(message);
}

/** Wraps a connection failure into a one-line `ConnectionError` naming host and port. */
export function connectionFailure(target: ConnectionTarget, error: unknown): ConnectionError {
  const err = error as { code?: string; message?: string };
  const reason = err.message || err.code || String(error);
  return new ConnectionError(
    `cannot connect to Postgres at ${target.host}:${target.port} (database "${target.database}", user "${target.user}"): ${reason}`,
    { cause: error },
  );
}

/** Options for `createPool`. */
export interface PoolOptions {
  /** Postgres connection string. */
  connectionString: string;
  /** Maximum number of connections. (Default: 10) */
  max?: number | undefined;
  /** Name shown in `pg_stat_activity.application_name`. (Default: "rowflow") */
  applicationName?: string | undefined;
}

/**
 * Creates a `pg.Pool` registered as an open handle (closed by `pool.end()`).
 * Idle-client errors (a server restart) are logged by the pool's owner, not thrown.
 */
export function createPool(options: PoolOptions): pg.Pool {
  parseConnectionTarget(options.connectionString);
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? "rowflow",
  });
  // An idle client that loses its connection emits 'error' on the pool; without
  // a listener Node would crash the process. Checkouts see the failure anyway.
  pool.on("error", () => {});
  pool.on("connect", (client) => {
    client.on("error", () => {});
  });
  const unregister = registerHandle({
    kind: "pool",
    description: `pg pool (${options.applicationName ?? "rowflow"})`,
    close: () => pool.end(),
  });
  const end = pool.end.bind(pool);
  let ended: Promise<void> | undefined;
  pool.end = (() => {
    unregister();
    ended ??= end();
    return ended;
  }) as typeof pool.end;
  return pool;
}
