import { runMigrations as runGraphileMigrations } from "graphile-worker";
import type pg from "pg";

import { coerceError, ErrorCodes, MigrationError } from "../errors.js";
import {
  connectionFailure,
  createPool,
  isConnectionFailure,
  parseConnectionTarget,
} from "./connection.js";
import { lineOfPosition, type MigrationFile, readMigrationFiles } from "./migration-files.js";
import { quietGraphileLogger } from "./quiet-graphile-logger.js";

/**
 * Key of the session advisory lock every migrator holds while it works, so that
 * concurrent `rowflow migrate` processes apply each file exactly once.
 * (The two int4 halves spell "rowf" "migr" in ASCII.)
 */
const migrationLockKey: readonly [number, number] = [0x726f7766, 0x6d696772];

/** Options for `migrate`. */
export interface MigrateOptions {
  /** Postgres connection string. */
  connectionString: string;
  /** List the pending files without applying anything. (Default: false) */
  dryRun?: boolean | undefined;
  /** Folder with the migration files. (Default: the package's `sql/migrations`) */
  migrationsDir?: string | undefined;
  /** Called after each file is applied. (Default: none) */
  onApplied?: ((file: string) => void) | undefined;
  /**
   * Prefix of rowflow's role names (`<prefix>rowflow_app`, …), for a cluster
   * whose databases must not share them; fixed by the first migration that
   * creates the roles (docs/security.md). (Default: none)
   */
  rolePrefix?: string | undefined;
}

/** What `migrate` did. */
export interface MigrateResult {
  /** Files applied by this call, in order (empty for a dry run). */
  applied: string[];
  /** Files not yet applied when the call started. */
  pending: string[];
  /** Whether graphile-worker's schema was installed before this call. */
  graphileWorkerInstalled: boolean;
}

interface AppliedRow {
  name: string;
  checksum: string;
}

/**
 * Applies graphile-worker's migrations, then rowflow's pending files, each in
 * its own transaction, under a session advisory lock.
 *
 * Throws `ConnectionError` when the database cannot be reached and
 * `MigrationError` when a file fails (the error names the file and line) or an
 * applied file's checksum changed. Returns what was applied.
 */
export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  const target = parseConnectionTarget(options.connectionString);
  const files = await readMigrationFiles(options.migrationsDir);
  const pool = createPool({
    connectionString: options.connectionString,
    max: 2,
    applicationName: "rowflow migrate",
  });
  try {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw isConnectionFailure(error) ? connectionFailure(target, error) : error;
    }
    try {
      if (!options.dryRun) {
        await client.query("select pg_advisory_lock($1, $2)", [...migrationLockKey]);
      }
      try {
        return await migrateLocked(client, pool, files, options);
      } finally {
        if (!options.dryRun) {
          await client.query("select pg_advisory_unlock($1, $2)", [...migrationLockKey]);
        }
      }
    } finally {
      client.release();
    }
  } finally {
    await pool.end();
  }
}

async function migrateLocked(
  client: pg.PoolClient,
  pool: pg.Pool,
  files: MigrationFile[],
  options: MigrateOptions,
): Promise<MigrateResult> {
  const { rows: gw } = await client.query<{ installed: boolean }>(
    "select to_regclass('graphile_worker.migrations') is not null as installed",
  );
  const graphileWorkerInstalled = gw[0]?.installed === true;
  const applied = await readApplied(client);
  for (const file of files) {
    const recorded = applied.get(file.name);
    if (recorded !== undefined && recorded !== file.checksum) {
      throw new MigrationError(
        `migration ${file.name} was changed after it was applied (checksum ${recorded.slice(0, 12)}… recorded, ${file.checksum.slice(0, 12)}… on disk); migrations are forward-only: restore the file and add a new one`,
        { code: ErrorCodes.migrationChecksum, file: file.name },
      );
    }
  }
  const pending = files.filter((file) => !applied.has(file.name));
  // Forward-only means in order: a file numbered below one already applied
  // (two branches merged with clashing numbers) would run after code that was
  // written assuming it did not exist. Refuse and ask for a new number.
  const newestApplied = files.filter((file) => applied.has(file.name)).pop();
  const late = newestApplied && pending.find((file) => file.number < newestApplied.number);
  if (newestApplied && late) {
    throw new MigrationError(
      `migration ${late.name} is numbered before ${newestApplied.name}, which is already applied; give it a number after ${newestApplied.name}`,
      { code: ErrorCodes.migrationOrder, file: late.name },
    );
  }
  const result: MigrateResult = {
    applied: [],
    pending: pending.map((file) => file.name),
    graphileWorkerInstalled,
  };
  if (options.dryRun) return result;

  await runGraphileMigrations({ pgPool: pool, logger: quietGraphileLogger });
  await client.query("select pg_catalog.set_config('rowflow.role_prefix', $1, false)", [
    options.rolePrefix ?? "",
  ]);
  for (const file of pending) {
    await applyFile(client, file);
    result.applied.push(file.name);
    options.onApplied?.(file.name);
  }
  // The worker role's rights on graphile-worker's tables, which a
  // graphile-worker upgrade may add to (sql/schema/05_access/25_grant_graphile.sql).
  const { rows: grants } = await client.query<{ present: boolean }>(
    "select pg_catalog.to_regprocedure('rowflow._grant_graphile()') is not null as present",
  );
  if (grants[0]?.present) await client.query("select rowflow._grant_graphile()");
  return result;
}

async function readApplied(client: pg.PoolClient): Promise<Map<string, string>> {
  const { rows: exists } = await client.query<{ present: boolean }>(
    "select to_regclass('rowflow.migrations') is not null as present",
  );
  if (!exists[0]?.present) return new Map();
  const { rows } = await client.query<AppliedRow>(
    "select name, checksum from rowflow.migrations order by name",
  );
  return new Map(rows.map((row) => [row.name, row.checksum]));
}

async function applyFile(client: pg.PoolClient, file: MigrationFile): Promise<void> {
  await client.query("begin");
  try {
    // Simple-query protocol: the file may hold many statements.
    await client.query(file.sql);
    await client.query("insert into rowflow.migrations (name, checksum) values ($1, $2)", [
      file.name,
      file.checksum,
    ]);
    await client.query("commit");
  } catch (error) {
    await client.query("rollback").catch(() => {});
    const pgError = error as { position?: string; message?: string };
    const line = pgError.position ? lineOfPosition(file.sql, Number(pgError.position)) : undefined;
    throw new MigrationError(
      `migration ${file.name} failed${line ? ` at line ${line}` : ""}: ${coerceError(error).message}`,
      { code: ErrorCodes.migrationFailed, file: file.name, line, cause: error },
    );
  }
}
