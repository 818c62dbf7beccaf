import { onlyRow, type Queryable } from "../queryable.js";

/**
 * Calls `rowflow.hold_worker_lock` on `db`, which must be a connection of the
 * worker's own (the lock lives as long as that session): true when the
 * session holds the worker's advisory lock, false when the worker has no row
 * or the key is held elsewhere.
 */
export async function holdWorkerLock(
  db: Queryable,
  args: { id: string; token: string | null },
): Promise<boolean> {
  const { rows } = await db.query<{ held: boolean }>(
    "select rowflow.hold_worker_lock(id => $1, token => $2) as held",
    [args.id, args.token],
  );
  return onlyRow(rows, "rowflow.hold_worker_lock").held;
}
