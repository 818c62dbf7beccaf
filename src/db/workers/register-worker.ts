import type { Queryable } from "../queryable.js";

/** A worker's row in `rowflow.workers`. */
export interface Registration {
  /** The graphile-worker pool id. */
  id: string;
  hostname: string;
  pid: number;
  concurrency: number;
  /** Task names it has handlers for. */
  tasks: readonly string[];
}

/** Calls `rowflow.register_worker` (insert or refresh the worker's row). */
export async function registerWorker(
  db: Queryable,
  args: Registration & { now?: Date | null },
): Promise<void> {
  await db.query(
    `select rowflow.register_worker(id => $1, hostname => $2, pid => $3, concurrency => $4,
                                    tasks => $5::text[], now => $6)`,
    [args.id, args.hostname, args.pid, args.concurrency, [...args.tasks], args.now ?? null],
  );
}
