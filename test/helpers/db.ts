import { randomBytes } from "node:crypto";

import pg from "pg";
import { afterAll, beforeAll, beforeEach, inject } from "vitest";

import { withDatabase } from "./database-url.js";

/** This test file's own database, cloned from the migrated template. */
export interface TestDatabase {
  /** Its name (kept after a failure, for debugging). */
  readonly name: string;
  /** Connection string. */
  readonly url: string;
  /** A pool on it, closed after the file's tests. */
  readonly pool: pg.Pool;
  /** `pool.query` shorthand. */
  query<R extends pg.QueryResultRow = Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
  /** Runs `fn` inside BEGIN … ROLLBACK on a dedicated client. */
  rollback<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T>;
}

/** Options for `useTestDatabase`. */
export interface TestDatabaseOptions {
  /** Clone the migrated template; false gives an empty database. (Default: true) */
  migrated?: boolean;
}

/**
 * Declares this file's database: created from the template in `beforeAll`,
 * dropped in `afterAll` when every test passed, kept (and its name printed)
 * when one failed. Call it at module top level.
 */
export function useTestDatabase(options: TestDatabaseOptions = {}): TestDatabase {
  let state: { name: string; url: string; pool: pg.Pool } | undefined;
  const get = () => {
    if (!state) throw new Error("the test database is created in beforeAll; use it inside tests");
    return state;
  };

  beforeAll(async () => {
    const { adminUrl, template, runId } = inject("rowflowDb");
    const name = `rowflow_t_${runId}_${randomBytes(4).toString("hex")}`;
    await withAdmin(adminUrl, async (admin) => {
      if (options.migrated === false) {
        await admin.query(`create database ${admin.escapeIdentifier(name)}`);
      } else {
        await createFromTemplate(admin, name, template);
      }
    });
    const url = withDatabase(adminUrl, name);
    const pool = new pg.Pool({ connectionString: url, max: 10 });
    pool.on("error", () => {});
    state = { name, url, pool };
  });

  let failed = false;
  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      failed = true;
    });
  });

  afterAll(async () => {
    if (!state) return;
    await state.pool.end();
    const { adminUrl } = inject("rowflowDb");
    if (failed) {
      console.error(
        `[rowflow tests] kept database ${state.name} of a failed test file: ${state.url}`,
      );
      return;
    }
    const name = state.name;
    await withAdmin(adminUrl, (admin) =>
      admin.query(`drop database if exists ${admin.escapeIdentifier(name)} with (force)`),
    );
  });

  return {
    get name() {
      return get().name;
    },
    get url() {
      return get().url;
    },
    get pool() {
      return get().pool;
    },
    query: (text, values) => get().pool.query(text, values),
    rollback: async (fn) => {
      const client = await get().pool.connect();
      try {
        await client.query("begin");
        return await fn(client);
      } finally {
        await client.query("rollback").catch(() => {});
        client.release();
      }
    },
  };
}

async function withAdmin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function createFromTemplate(admin: pg.Client, name: string, template: string) {
  // 55006: the template is briefly in use by another CREATE DATABASE; retry.
  for (let attempt = 1; ; attempt++) {
    try {
      await admin.query(
        `create database ${admin.escapeIdentifier(name)} template ${admin.escapeIdentifier(template)}`,
      );
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== "55006" || attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
    }
  }
}
