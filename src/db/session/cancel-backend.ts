import { onlyRow, type Queryable } from "../queryable.js";

/**
 * Cancels the statement running on another connection (`pg_cancel_backend`),
 * e.g. a handler's query when its step times out. False when no such backend.
 */
export async function cancelBackend(db: Queryable, args: { pid: number }): Promise<boolean> {
  const { rows } = await db.query<{ cancelled: boolean }>(
    "select pg_catalog.pg_cancel_backend($1) as cancelled",
    [args.pid],
  );
  return onlyRow(rows, "pg_cancel_backend").cancelled;
}
