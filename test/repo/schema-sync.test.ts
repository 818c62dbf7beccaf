// sql/schema/ (the readable source) and sql/migrations/ (what users'
// databases run) must build the same rowflow schema; and the check and
// `npm run db:migration` work on an edit made the way a developer makes it.
import { cp, mkdtemp, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

import { checkSchemas, type SchemaSources } from "../../scripts/schema/check-schemas.js";
import { formatDifferences } from "../../scripts/schema/compare-schemas.js";
import { writeNextMigration } from "../../scripts/schema/new-migration.js";
import { readMigrationFiles } from "../../src/db/migration-files.js";
import { MigrationError } from "../../src/errors.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const labels = { expected: "sql/migrations", actual: "sql/schema" };

describe("sql/schema", () => {
  it("builds the same schema as sql/migrations", async () => {
    const differences = await checkSchemas(inject("rowflowDb").adminUrl);
    // The report names each object that differs, with a diff of its definition.
    expect(formatDifferences(differences, labels)).toBe("");
  });
});

describe("the equivalence check and npm run db:migration, on a scratch copy", () => {
  let scratch: string;
  let sources: Required<SchemaSources>;
  let next: string;

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), "rowflow-schema-sync-"));
    sources = {
      schemaDir: path.join(scratch, "schema"),
      migrationsDir: path.join(scratch, "migrations"),
    };
    await cp(path.join(root, "sql/schema"), sources.schemaDir, { recursive: true });
    await cp(path.join(root, "sql/migrations"), sources.migrationsDir, { recursive: true });
    const files = await readMigrationFiles(sources.migrationsDir);
    next = String(files.at(-1)!.number + 1).padStart(6, "0");
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  const edit = async (file: string, from: string, to: string) => {
    const full = path.join(sources.schemaDir, file);
    const text = await readFile(full, "utf8");
    expect(text).toContain(from);
    await writeFile(full, text.replace(from, to));
  };

  it("names a function edited without a migration; the written migration makes it pass", async () => {
    const adminUrl = inject("rowflowDb").adminUrl;
    await edit(
      "60_gate/cancel_run.sql",
      "raise exception 'unknown run %'",
      "raise exception 'no run %'",
    );
    // A removed function, and one with a changed return type (needs a drop first).
    await unlink(path.join(sources.schemaDir, "65_jobs/_enqueue.sql"));
    await edit("80_wake/_notify.sql", "returns void", "returns int");
    await edit(
      "80_wake/_notify.sql",
      "_notify.payload::text);\nend;",
      "_notify.payload::text);\n  return 1;\nend;",
    );

    const before = await checkSchemas(adminUrl, sources);
    expect(before.map((d) => `${d.kind} ${d.key}`)).toEqual([
      "missing function rowflow._enqueue(specs graphile_worker.job_spec[])",
      "changed function rowflow._notify(payload jsonb)",
      "changed function rowflow.cancel_run(run_id bigint, reason text, now timestamp with time zone, compensate boolean)",
    ]);
    expect(formatDifferences(before, labels)).toContain(
      "-    raise exception 'unknown run %', cancel_run.run_id using errcode = 'RF023';\n" +
        "+    raise exception 'no run %', cancel_run.run_id using errcode = 'RF023';",
    );

    const { file, plan } = await writeNextMigration(adminUrl, "Edit cancel_run", sources);
    expect(path.basename(file!)).toBe(`${next}_edit_cancel_run.sql`);
    expect(plan.manual).toEqual([]);
    const sql = await readFile(file!, "utf8");
    expect(sql).toContain("drop function rowflow._enqueue(specs graphile_worker.job_spec[]);");
    expect(sql).toContain("drop function rowflow._notify(payload jsonb);");
    expect(sql).toContain(
      "-- from sql/schema/60_gate/cancel_run.sql\ncreate or replace function rowflow.cancel_run(",
    );
    expect(sql).not.toContain("claim_runs");

    expect(formatDifferences(await checkSchemas(adminUrl, sources), labels)).toBe("");
  });

  it("lists a table change for the author, and the migration refuses to run until it is written", async () => {
    const adminUrl = inject("rowflowDb").adminUrl;
    await edit(
      "20_tables/30_workers.sql",
      "check (length(id) between 1 and 128)",
      "check (length(id) between 1 and 100)",
    );
    const { file, plan } = await writeNextMigration(adminUrl, "shorter_worker_ids", sources);
    expect(plan.manual).toEqual(["constraint rowflow.workers.id_is_valid"]);
    expect(plan.automatic).toEqual([]);

    const error = await checkSchemas(adminUrl, sources).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toContain("unfinished migration");

    // The author writes the suggested statements in place of the block.
    const sql = await readFile(file!, "utf8");
    const suggested = [...sql.matchAll(/^-- {3}(alter table .*)$/gm)].map((m) => m[1]);
    expect(suggested).toEqual([
      "alter table rowflow.workers drop constraint id_is_valid;",
      "alter table rowflow.workers add constraint id_is_valid CHECK (((length(id) >= 1) AND (length(id) <= 100)));",
    ]);
    await writeFile(file!, `${sql.split("-- TODO(db:migration)")[0]}${suggested.join("\n")}\n`);
    expect(formatDifferences(await checkSchemas(adminUrl, sources), labels)).toBe("");
  });
});
