import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import pg from "pg";

import { migrate } from "../src/db/migrate.js";
import { startEmbeddedPostgres } from "../src/embedded/embedded-postgres.js";

/**
 * Runs `fn` with the admin connection string of a server: DATABASE_URL if
 * set, else a throwaway embedded Postgres, stopped and removed afterwards.
 */
export async function withServer<T>(fn: (adminUrl: string) => Promise<T>): Promise<T> {
  const adminUrl = process.env.DATABASE_URL;
  if (adminUrl) return fn(adminUrl);
  const dataDir = await mkdtemp(path.join(tmpdir(), "rowflow-scratch-pg-"));
  const server = await startEmbeddedPostgres({ dataDir, persistent: false, unsafeFast: true });
  try {
    return await fn(server.connectionString("postgres"));
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Runs `fn` against a new empty database on the server of `adminUrl`, dropped afterwards. */
export async function withEmptyDatabase<T>(
  adminUrl: string,
  fn: (url: string) => Promise<T>,
): Promise<T> {
  const name = `rowflow_scratch_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${admin.escapeIdentifier(name)}`);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    try {
      return await fn(url.toString());
    } finally {
      await admin.query(`drop database if exists ${admin.escapeIdentifier(name)} with (force)`);
    }
  } finally {
    await admin.end();
  }
}

/**
 * Runs `fn` against a freshly migrated scratch database (see `withServer`),
 * dropped afterwards. Used by db:dump and db:types.
 */
export async function withFreshDatabase<T>(fn: (url: string) => Promise<T>): Promise<T> {
  return withServer((adminUrl) =>
    withEmptyDatabase(adminUrl, async (url) => {
      await migrate({ connectionString: url });
      return fn(url);
    }),
  );
}
