// Probe of the start path before/after one migration (issue 6: 000006_lean_runs.sql;
// 000009_fast_trigger_path.sql, the default).
//
//   npx tsx scripts/bench/probe-start-path.ts [--reps 3] [--seconds 8] [--runs 100000]
//     [--migration 000009_fast_trigger_path.sql]
//
// Uses DATABASE_URL (an admin connection string) if set, else an embedded
// Postgres with the bench settings (synchronous_commit on). Builds two
// templates: "before" = the migration files numbered before --migration,
// "after" = those and --migration itself (later files are left out of both);
// each measurement gets a fresh database cloned from its template.
// Variants run interleaved (before, after, before, after, …) and the medians
// of the repetitions are printed:
// - bulk: one start_runs call with N inputs of a 4-step chain → runs/s;
// - WAL bytes per single-row INSERT into a table with that workflow attached
//   (pg_current_wal_insert_lsn delta over 500 committed INSERTs, one client),
//   and per bare INSERT;
// - pgbench single-row INSERT tps: bare, attached before, attached after, at
//   1 and 16 clients, and the attached/bare ratios.
import { randomBytes } from "node:crypto";
import { copyFile, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

import pg from "pg";

import { migrate } from "../../src/db/migrate.js";
import { defaultMigrationsDir } from "../../src/db/migration-files.js";
import { startEmbeddedPostgres } from "../../src/embedded/embedded-postgres.js";
import { createBusinessTable, insertOneOrder } from "./business-table.js";
import { withDatabase } from "./database.js";
import { insertLoad } from "./insert-load.js";
import { query } from "./pg-client.js";
import { median } from "./stats.js";
import { chainSpec } from "./workflows.js";

const { values: args } = parseArgs({
  options: {
    reps: { type: "string", default: "3" },
    seconds: { type: "string", default: "8" },
    runs: { type: "string", default: "100000" },
    migration: { type: "string", default: "000009_fast_trigger_path.sql" },
  },
});
const reps = Number(args.reps);
const seconds = Number(args.seconds);
const bulkRuns = Number(args.runs);
const probed = args.migration;

let adminUrl = process.env.DATABASE_URL;
let stopServer = async () => {};
if (!adminUrl) {
  const dataDir = await mkdtemp(path.join(tmpdir(), "rowflow-probe-pg-"));
  const server = await startEmbeddedPostgres({ dataDir, persistent: false });
  adminUrl = server.connectionString("postgres");
  stopServer = async () => {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}
const admin = adminUrl;
const id = randomBytes(3).toString("hex");
const templates = { before: `rf_probe_${id}_before`, after: `rf_probe_${id}_after` };
const created: string[] = [];

async function makeTemplate(name: string, withProbed: boolean) {
  const files = (await readdir(defaultMigrationsDir)).filter((f) => f.endsWith(".sql"));
  if (!files.includes(probed)) throw new Error(`no migration ${probed} in ${defaultMigrationsDir}`);
  const dir = await mkdtemp(path.join(tmpdir(), "rowflow-probe-mig-"));
  for (const file of files) {
    if (file > probed || (!withProbed && file === probed)) continue;
    await copyFile(path.join(defaultMigrationsDir, file), path.join(dir, file));
  }
  await query(admin, `create database ${name}`);
  created.push(name);
  await migrate({ connectionString: withDatabase(admin, name), migrationsDir: dir });
  await rm(dir, { recursive: true, force: true });
}

let n = 0;
async function fresh(template: string) {
  const name = `rf_probe_${id}_${++n}`;
  await query(admin, `create database ${name} template ${template}`);
  return {
    url: withDatabase(admin, name),
    drop: () => query(admin, `drop database if exists ${name} with (force)`),
  };
}

async function attach(url: string) {
  await query(url, "select rowflow.define_workflow(name => $1, spec => $2::jsonb)", [
    "bench-order",
    JSON.stringify(chainSpec(["a", "b", "c", "d"])),
  ]);
  await query(url, "select rowflow.attach('public.bench_orders'::regclass, 'bench-order')");
}

const results = new Map<string, number[]>();
const record = (key: string, value: number) => {
  results.set(key, [...(results.get(key) ?? []), value]);
  console.log(`  ${key}: ${Math.round(value * 100) / 100}`);
};

async function bulk(variant: "before" | "after") {
  const db = await fresh(templates[variant]);
  try {
    await query(db.url, "select rowflow.define_workflow(name => $1, spec => $2::jsonb)", [
      "bench-order",
      JSON.stringify(chainSpec(["a", "b", "c", "d"])),
    ]);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      // The inputs are built in a temp table first, so only start_runs is timed.
      await client.query(
        `create temp table inputs as select array_agg(jsonb_build_object('customer', 'customer-' || i,
           'total_cents', i % 10000) order by i) as a from generate_series(1, $1::int) as i`,
        [bulkRuns],
      );
      const start = performance.now();
      await client.query(
        "select count(*) from inputs, rowflow.start_runs('bench-order', inputs.a)",
      );
      record(`bulk runs/s, ${variant}`, bulkRuns / ((performance.now() - start) / 1000));
    } finally {
      await client.end();
    }
  } finally {
    await db.drop();
  }
}

async function walPerInsert(variant: "bare" | "before" | "after") {
  const db = await fresh(templates[variant === "before" ? "before" : "after"]);
  try {
    await query(db.url, createBusinessTable);
    if (variant !== "bare") await attach(db.url);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      for (let i = 0; i < 100; i++) await client.query(insertOneOrder);
      const lsn = async () =>
        (await client.query<{ l: string }>("select pg_current_wal_insert_lsn()::text as l"))
          .rows[0]!.l;
      const l0 = await lsn();
      const count = 500;
      for (let i = 0; i < count; i++) await client.query(insertOneOrder);
      const l1 = await lsn();
      const { rows } = await client.query<{ d: string }>(
        "select pg_wal_lsn_diff($1, $2)::bigint as d",
        [l1, l0],
      );
      // Minus the one lsn query's own share (none: it writes no WAL).
      record(`WAL bytes/INSERT, ${variant}`, Number(rows[0]!.d) / count);
    } finally {
      await client.end();
    }
  } finally {
    await db.drop();
  }
}

async function tps(variant: "bare" | "before" | "after", clients: number) {
  const db = await fresh(templates[variant === "before" ? "before" : "after"]);
  try {
    await query(db.url, createBusinessTable);
    if (variant !== "bare") await attach(db.url);
    const { tps: value } = await insertLoad(db.url, insertOneOrder, clients, seconds);
    record(`tps ${clients} client(s), ${variant}`, value);
  } finally {
    await db.drop();
  }
}

try {
  await makeTemplate(templates.before, false);
  await makeTemplate(templates.after, true);
  const facts = await query<{ name: string; setting: string }>(
    admin,
    `select name, setting from pg_settings where name in ('server_version', 'synchronous_commit', 'shared_buffers', 'wal_level')`,
  );
  console.log(
    `probing ${probed}; server: ${process.env.DATABASE_URL ? "DATABASE_URL" : "embedded"}; ${facts.map((f) => `${f.name}=${f.setting}`).join(", ")}`,
  );
  for (let rep = 1; rep <= reps; rep++) {
    console.log(`rep ${rep}`);
    for (const v of ["before", "after"] as const) await bulk(v);
    for (const v of ["bare", "before", "after"] as const) await walPerInsert(v);
    for (const clients of [1, 16])
      for (const v of ["bare", "before", "after"] as const) await tps(v, clients);
  }
  console.log(`\nmedians of ${reps} repetitions:`);
  const med = (key: string) => median(results.get(key) ?? []);
  for (const key of results.keys())
    console.log(`  ${key.padEnd(34)} ${Math.round(med(key) * 100) / 100}`);
  for (const clients of [1, 16]) {
    const bare = med(`tps ${clients} client(s), bare`);
    for (const v of ["before", "after"])
      console.log(
        `  attached/bare ${clients} client(s), ${v}:`.padEnd(36) +
          ` ${(med(`tps ${clients} client(s), ${v}`) / bare).toFixed(3)}`,
      );
  }
} finally {
  for (const name of created) await query(admin, `drop database if exists ${name} with (force)`);
  await stopServer();
}
