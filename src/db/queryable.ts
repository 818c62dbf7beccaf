/**
 * The one thing the SQL-call modules need from a connection: `query`. A
 * `pg.Pool`, a checked-out `pg.PoolClient` and a `pg.Client` all fit, so the
 * same call runs in autocommit mode or inside the caller's transaction.
 */
export interface Queryable {
  query<R extends Record<string, unknown> = Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: R[] }>;
}

/** Returns the only row of a function call's result; the call is known to return one row. */
export function onlyRow<R>(rows: R[], what: string): R {
  const row = rows[0];
  if (row === undefined) throw new Error(`${what} returned no row`);
  return row;
}
