// `npm run db:migration <name>`'s work, as a function the tests call too.
import { writeFile } from "node:fs/promises";
import path from "node:path";

import pg from "pg";

import { defaultMigrationsDir, readMigrationFiles } from "../../src/db/migration-files.js";
import { describeMigrations, type SchemaSources, withSchemaDatabase } from "./check-schemas.js";
import { describeSchema } from "./describe-schema.js";
import { type MigrationPlan, planMigration, resolveGroupKeys } from "./plan-migration.js";
import { groupStatements, readSchemaFiles } from "./schema-sources.js";

/** What `writeNextMigration` did. */
export interface NewMigration {
  /** Path of the file written; null when sql/schema and the migrations agree. */
  file: string | null;
  plan: MigrationPlan;
}

/**
 * Writes the next numbered migration of `sources.migrationsDir` that takes
 * the migrated schema to sql/schema's. `name` becomes the file name's suffix
 * (lowercase letters, digits and underscores; other characters become `_`).
 */
export async function writeNextMigration(
  adminUrl: string,
  name: string,
  sources: SchemaSources = {},
): Promise<NewMigration> {
  const suffix = name
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, "_")
    .replace(/^_+|_+$/g, "");
  if (!suffix) throw new Error(`migration name ${JSON.stringify(name)} has no letters or digits`);
  const migrationsDir = sources.migrationsDir ?? defaultMigrationsDir;
  const existing = await readMigrationFiles(migrationsDir);
  const number = (existing.at(-1)?.number ?? 0) + 1;
  const fileName = `${String(number).padStart(6, "0")}_${suffix}.sql`;

  const groups = groupStatements(await readSchemaFiles(sources.schemaDir));
  const [migrated, { target, groupKeys }] = await Promise.all([
    describeMigrations(adminUrl, sources),
    withSchemaDatabase(adminUrl, sources, async (url) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return {
          target: await describeSchema(client),
          groupKeys: await resolveGroupKeys(client, groups),
        };
      } finally {
        await client.end();
      }
    }),
  ]);
  const plan = planMigration({ fileName, migrated, target, groups, groupKeys });
  if (!plan.sql) return { file: null, plan };
  const file = path.join(migrationsDir, fileName);
  await writeFile(file, plan.sql, { flag: "wx" });
  return { file, plan };
}
