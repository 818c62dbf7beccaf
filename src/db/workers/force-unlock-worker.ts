import type { Queryable } from "../queryable.js";

/** Releases every job a graphile-worker pool holds (`graphile_worker.force_unlock_workers`). */
export async function forceUnlockWorker(db: Queryable, args: { id: string }): Promise<void> {
  await db.query("select graphile_worker.force_unlock_workers(worker_ids => array[$1::text])", [
    args.id,
  ]);
}
