// Builds a database's rowflow schema from sql/schema/ (the readable source),
// the counterpart of `migrate` (which builds it from sql/migrations/).
import { runMigrations as runGraphileMigrations } from "graphile-worker";
import type pg from "pg";

import { createPool } from "../../src/db/connection.js";
import { lineOfPosition } from "../../src/db/migration-files.js";
import { quietGraphileLogger } from "../../src/db/quiet-graphile-logger.js";
import { readSchemaFiles, type SchemaFile } from "./schema-sources.js";

/** A file of sql/schema failed to apply. */
export class SchemaBuildError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly line: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "SchemaBuildError";
  }
}

/**
 * Installs graphile-worker's schema (rowflow's functions use its types and
 * tables), then applies every file of `schemaDir` in path order, all in one
 * transaction. Throws `SchemaBuildError` naming the file and line that failed.
 */
export async function buildFromSchema(connectionString: string, schemaDir?: string): Promise<void> {
  const files = await readSchemaFiles(schemaDir);
  const pool = createPool({ connectionString, max: 2, applicationName: "rowflow schema build" });
  try {
    await runGraphileMigrations({ pgPool: pool, logger: quietGraphileLogger });
    const client = await pool.connect();
    try {
      await client.query("begin");
      for (const file of files) await applyFile(client, file);
      await client.query("commit");
    } catch (error) {
      await client.query("rollback").catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  } finally {
    await pool.end();
  }
}

async function applyFile(client: pg.PoolClient, file: SchemaFile): Promise<void> {
  try {
    // Simple-query protocol: a file holds many statements.
    await client.query(file.sql);
  } catch (error) {
    const pgError = error as { position?: string; message?: string };
    const line = pgError.position ? lineOfPosition(file.sql, Number(pgError.position)) : undefined;
    throw new SchemaBuildError(
      `sql/schema/${file.path}${line ? `:${line}` : ""}: ${pgError.message ?? String(error)}`,
      file.path,
      line,
      { cause: error },
    );
  }
}
