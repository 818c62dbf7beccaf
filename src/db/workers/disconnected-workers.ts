import { onlyRow, type Queryable } from "../queryable.js";

/**
 * Calls `rowflow.disconnected_workers`: the ids of registered workers whose
 * lock connection closed (dead, not yet released). Changes nothing.
 */
export async function disconnectedWorkers(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ ids: string[] }>(
    "select rowflow.disconnected_workers() as ids",
  );
  return onlyRow(rows, "rowflow.disconnected_workers").ids;
}
