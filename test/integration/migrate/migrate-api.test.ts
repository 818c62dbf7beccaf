import { cp, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { afterAll, describe, expect, it } from "vitest";

import { migrate } from "../../../src/db/migrate.js";
import { defaultMigrationsDir } from "../../../src/db/migration-files.js";
import { MigrationError } from "../../../src/errors.js";
import { useTestDatabase } from "../../helpers/db.js";

const db = useTestDatabase({ migrated: false });

const copies: string[] = [];
afterAll(async () => {
  await Promise.all(copies.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function copyOfMigrations(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "rowflow-migrations-"));
  copies.push(dir);
  await cp(defaultMigrationsDir, dir, { recursive: true });
  return dir;
}

async function applied(): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    "select name from rowflow.migrations order by name",
  );
  return rows.map((row) => row.name);
}

async function resetSchemas() {
  await db.query(
    "drop schema if exists rowflow cascade; drop schema if exists graphile_worker cascade",
  );
}

describe("migrate()", () => {
  it("lists pending files on a dry run and applies nothing", async () => {
    await resetSchemas();
    const files = (await readdir(defaultMigrationsDir)).filter((f) => f.endsWith(".sql")).sort();
    const result = await migrate({ connectionString: db.url, dryRun: true });
    expect(result).toEqual({ applied: [], pending: files, graphileWorkerInstalled: false });
    const { rows } = await db.query<{ n: number }>(
      "select count(*)::int as n from pg_namespace where nspname in ('rowflow', 'graphile_worker')",
    );
    expect(rows[0]?.n).toBe(0);
  });

  it("applies graphile-worker's and every rowflow file once, then is a no-op", async () => {
    await resetSchemas();
    const files = (await readdir(defaultMigrationsDir)).filter((f) => f.endsWith(".sql")).sort();
    const first = await migrate({ connectionString: db.url });
    expect(first.applied).toEqual(files);
    expect(await applied()).toEqual(files);
    const { rows } = await db.query<{ present: boolean }>(
      "select to_regprocedure('graphile_worker.add_jobs(graphile_worker.job_spec[], boolean)') is not null as present",
    );
    expect(rows[0]?.present).toBe(true);
    const second = await migrate({ connectionString: db.url });
    expect(second).toEqual({ applied: [], pending: [], graphileWorkerInstalled: true });
  });

  it("applies each file exactly once when migrators run concurrently", async () => {
    await resetSchemas();
    const dir = await copyOfMigrations();
    // A file that counts how often it runs: without the lock, concurrent runs would add 2+ rows.
    await writeFile(
      path.join(dir, "999998_counter.sql"),
      "create table if not exists public.migration_runs (id serial primary key);\ninsert into public.migration_runs default values;\n",
    );
    await db.query("drop table if exists public.migration_runs");
    const results = await Promise.all(
      Array.from({ length: 4 }, () => migrate({ connectionString: db.url, migrationsDir: dir })),
    );
    const appliedCounts = results.map((r) => r.applied.length).sort();
    const total = (await readdir(dir)).filter((f) => f.endsWith(".sql")).length;
    expect(appliedCounts).toEqual([0, 0, 0, total]);
    const { rows } = await db.query<{ n: number }>(
      "select count(*)::int as n from public.migration_runs",
    );
    expect(rows[0]?.n).toBe(1);
  });

  it("refuses an applied file whose checksum changed, naming the file", async () => {
    await resetSchemas();
    const dir = await copyOfMigrations();
    await migrate({ connectionString: db.url, migrationsDir: dir });
    await writeFile(path.join(dir, "000001_init.sql"), "-- edited after it was applied\n", {
      flag: "a",
    });
    const error = await migrate({ connectionString: db.url, migrationsDir: dir }).catch((e) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect(error.code).toBe("RF090");
    expect(error.file).toBe("000001_init.sql");
    expect(error.message).toMatch(/^migration 000001_init\.sql was changed after it was applied/);
  });

  it("rolls back a failing file, names its line, and applies no later file", async () => {
    await resetSchemas();
    const dir = await copyOfMigrations();
    await writeFile(
      path.join(dir, "999997_broken.sql"),
      "create table public.half_done (id int);\n\nselect 1;\nselect * from public.no_such_table;\n",
    );
    await writeFile(path.join(dir, "999998_later.sql"), "create table public.later (id int);\n");
    await db.query("drop table if exists public.half_done, public.later");
    const error = await migrate({ connectionString: db.url, migrationsDir: dir }).catch((e) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect(error.code).toBe("RF091");
    expect(error.file).toBe("999997_broken.sql");
    expect(error.line).toBe(4);
    expect(error.message).toContain("migration 999997_broken.sql failed at line 4");
    expect(error.message).toContain('relation "public.no_such_table" does not exist');
    const { rows } = await db.query<{ half: string | null; later: string | null }>(
      "select to_regclass('public.half_done')::text as half, to_regclass('public.later')::text as later",
    );
    expect(rows[0]).toEqual({ half: null, later: null });
    expect(await applied()).not.toContain("999997_broken.sql");
  });

  it("refuses a pending file numbered before one already applied", async () => {
    await resetSchemas();
    const dir = await copyOfMigrations();
    await writeFile(path.join(dir, "999998_later.sql"), "select 1;\n");
    await migrate({ connectionString: db.url, migrationsDir: dir });
    await writeFile(
      path.join(dir, "999997_merged_late.sql"),
      "create table public.merged_late (id int);\n",
    );
    const error = await migrate({ connectionString: db.url, migrationsDir: dir }).catch((e) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect(error.code).toBe("RF093");
    expect(error.file).toBe("999997_merged_late.sql");
    expect(error.message).toBe(
      "migration 999997_merged_late.sql is numbered before 999998_later.sql, which is already applied; give it a number after 999998_later.sql",
    );
    const { rows } = await db.query<{ t: string | null }>(
      "select to_regclass('public.merged_late')::text as t",
    );
    expect(rows[0]?.t).toBeNull();
  });

  it("rejects a badly named migration file", async () => {
    const dir = await copyOfMigrations();
    await writeFile(path.join(dir, "2_Bad Name.sql"), "select 1;\n");
    const error = await migrate({ connectionString: db.url, migrationsDir: dir }).catch((e) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect(error.code).toBe("RF092");
    expect(error.message).toContain('"2_Bad Name.sql"');
  });
});
