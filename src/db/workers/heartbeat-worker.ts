import { onlyRow, type Queryable } from "../queryable.js";

/** Calls `rowflow.heartbeat_worker`; false when the worker's row is gone (declared dead). */
export async function heartbeatWorker(
  db: Queryable,
  args: { id: string; now?: Date | null; token: string | null },
): Promise<boolean> {
  const { rows } = await db.query<{ alive: boolean }>(
    "select rowflow.heartbeat_worker(id => $1, now => $2, token => $3) as alive",
    [args.id, args.now ?? null, args.token],
  );
  return onlyRow(rows, "rowflow.heartbeat_worker").alive;
}
