import type { Queryable } from "./queryable.js";

/** Calls `rowflow.register_worker` (insert or refresh the worker's row). */
export async function registerWorker(
  db: Queryable,
  args: {
    id: string;
    hostname: string;
    pid: number;
    concurrency: number;
    tasks: readonly string[];
    now?: Date | null;
  },
): Promise<void> {
  await db.query(
    `select rowflow.register_worker(id => $1, hostname => $2, pid => $3, concurrency => $4,
                                    tasks => $5::text[], now => $6)`,
    [args.id, args.hostname, args.pid, args.concurrency, [...args.tasks], args.now ?? null],
  );
}
