import { ErrorCodes, MigrationError } from "../errors.js";
import { readMigrationFiles } from "./migration-files.js";
import type { Queryable } from "./queryable.js";

/**
 * Checks that the database has rowflow's schema at this package's latest
 * migration, before a worker starts (it would otherwise install
 * graphile-worker's schema and then fail on a missing function). Throws a
 * `MigrationError` (RF094) that says to run `rowflow migrate`; returns a
 * warning when the database is newer than this package.
 */
export async function assertMigrated(db: Queryable): Promise<string | undefined> {
  const files = await readMigrationFiles();
  const expected = files.at(-1)?.name;
  const { rows } = await db.query<{ installed: boolean; db: string }>(
    `select to_regclass('rowflow.migrations') is not null as installed,
            pg_catalog.current_database() as db`,
  );
  const database = rows[0]?.db ?? "?";
  const latest = rows[0]?.installed
    ? (await db.query<{ m: string | null }>("select max(name) as m from rowflow.migrations"))
        .rows[0]?.m
    : null;
  if (!latest) {
    throw new MigrationError(
      `database "${database}" has no rowflow schema: run \`rowflow migrate\` (or migrate() from TypeScript) first`,
      { code: ErrorCodes.notMigrated, file: expected ?? "" },
    );
  }
  const status = { db: database, latest };
  if (expected && status.latest < expected) {
    throw new MigrationError(
      `database "${status.db}" is at migration ${status.latest}; this rowflow needs ${expected}: run \`rowflow migrate\` first`,
      { code: ErrorCodes.notMigrated, file: expected },
    );
  }
  if (expected && status.latest > expected) {
    return `database "${status.db}" is at migration ${status.latest}, newer than this rowflow (${expected}): upgrade the worker`;
  }
  return undefined;
}
