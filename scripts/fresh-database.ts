import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import pg from "pg";

import { migrate } from "../src/db/migrate.js";
import { startEmbeddedPostgres } from "../src/embedded/embedded-postgres.js";

/**
 * Runs `fn` against a freshly migrated scratch database: on the DATABASE_URL
 * server if set, else on a throwaway embedded Postgres. The database is
 * dropped afterwards. Used by db:dump and db:types.
 */
export async function withFreshDatabase<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const adminUrl = process.env.DATABASE_URL;
  if (adminUrl) return withScratchDatabase(adminUrl, fn);
  const dataDir = await mkdtemp(path.join(tmpdir(), "rowflow-scratch-pg-"));
  const server = await startEmbeddedPostgres({ dataDir, persistent: false, unsafeFast: true });
  try {
    return await withScratchDatabase(server.connectionString("postgres"), fn);
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function withScratchDatabase<T>(adminUrl: string, fn: (url: string) => Promise<T>) {
  const name = `rowflow_scratch_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${admin.escapeIdentifier(name)}`);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    try {
      await migrate({ connectionString: url.toString() });
      return await fn(url.toString());
    } finally {
      await admin.query(`drop database if exists ${admin.escapeIdentifier(name)} with (force)`);
    }
  } finally {
    await admin.end();
  }
}
