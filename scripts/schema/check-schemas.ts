// The equivalence check: a database built from sql/migrations/ and one built
// from sql/schema/ must describe the rowflow schema identically.
import pg from "pg";

import { migrate } from "../../src/db/migrate.js";
import { withEmptyDatabase } from "../fresh-database.js";
import { buildFromSchema } from "./build-database.js";
import { compareSchemas, type SchemaDifference } from "./compare-schemas.js";
import { describeSchema, type SchemaDescription } from "./describe-schema.js";

/** Where the two sides come from. */
export interface SchemaSources {
  /** Folder of migrations. (Default: sql/migrations) */
  migrationsDir?: string;
  /** Folder of the readable source. (Default: sql/schema) */
  schemaDir?: string;
}

/** Describes a database's rowflow schema. */
export async function describeDatabase(url: string): Promise<SchemaDescription> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await describeSchema(client);
  } finally {
    await client.end();
  }
}

/** Builds a scratch database from the migrations and describes it. */
export function describeMigrations(adminUrl: string, sources: SchemaSources = {}) {
  return withEmptyDatabase(adminUrl, async (url) => {
    await migrate({ connectionString: url, migrationsDir: sources.migrationsDir });
    return describeDatabase(url);
  });
}

/** Builds a scratch database from sql/schema and runs `fn` on it (for its description and catalogs). */
export function withSchemaDatabase<T>(
  adminUrl: string,
  sources: SchemaSources,
  fn: (url: string) => Promise<T>,
): Promise<T> {
  return withEmptyDatabase(adminUrl, async (url) => {
    await buildFromSchema(url, sources.schemaDir);
    return fn(url);
  });
}

/** The objects on which the migrations and sql/schema disagree (none: in sync). */
export async function checkSchemas(
  adminUrl: string,
  sources: SchemaSources = {},
): Promise<SchemaDifference[]> {
  // One after the other: on a fresh server both sides would create rowflow's
  // roles at once (a duplicate-key race in pg_authid), and a side that failed
  // would leave the other's connections to be cut when the server stops.
  const fromMigrations = await describeMigrations(adminUrl, sources);
  const fromSchema = await withSchemaDatabase(adminUrl, sources, describeDatabase);
  return compareSchemas(fromMigrations, fromSchema);
}
