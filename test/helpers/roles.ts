// Login roles for tests that act as an app, a worker, an operator, a viewer,
// a table owner or nobody in particular (docs/security.md). Roles are global
// to the server, so each gets a random name and is dropped after the file's
// tests; rowflow's group roles (rowflow_app, …) come from the migrations.
import { randomBytes } from "node:crypto";

import pg from "pg";
import { afterAll } from "vitest";

import type { TestDatabase } from "./db.js";

/** A login role and a pool connected as it. */
export interface LoginRole {
  readonly name: string;
  /** Connection string of the test database as this role. */
  readonly url: string;
  readonly pool: pg.Pool;
  /** `pool.query` shorthand. */
  query<R extends pg.QueryResultRow = Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
}

const password = "rowflow-test";

/**
 * Declares a way to create login roles on `db`'s database; every role made
 * is dropped (with what it owns there) after the file's tests. `memberOf`
 * lists group roles to grant, e.g. `["rowflow_worker"]`.
 */
export function useLoginRoles(
  db: TestDatabase,
): (label: string, options?: { memberOf?: readonly string[] }) => Promise<LoginRole> {
  const made: LoginRole[] = [];
  afterAll(async () => {
    for (const role of made) await role.pool.end().catch(() => {});
    for (const role of made) {
      await db.query(`drop owned by ${role.name} cascade; drop role ${role.name}`).catch(() => {});
    }
  });
  return async (label, options = {}) => {
    const name = `rf_${label}_${randomBytes(4).toString("hex")}`;
    await db.query(`create role ${name} login password '${password}'`);
    for (const group of options.memberOf ?? []) {
      await db.query(`grant ${pg.escapeIdentifier(group)} to ${name}`);
    }
    const parsed = new URL(db.url);
    parsed.username = name;
    parsed.password = password;
    const url = parsed.toString();
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    pool.on("error", () => {});
    const role: LoginRole = {
      name,
      url,
      pool,
      query: (text, values) => pool.query(text, values),
    };
    made.push(role);
    return role;
  };
}
