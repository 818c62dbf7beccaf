import type { Queryable } from "../queryable.js";

/** Calls `rowflow.unregister_worker` (clean shutdown). */
export async function unregisterWorker(
  db: Queryable,
  args: { id: string; token: string | null },
): Promise<void> {
  await db.query("select rowflow.unregister_worker(id => $1, token => $2)", [args.id, args.token]);
}
