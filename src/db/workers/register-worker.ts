import { onlyRow, type Queryable } from "../queryable.js";

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

/**
 * Calls `rowflow.register_worker` (insert or refresh the worker's row) and
 * returns the worker's token, which the calls that act as this worker need
 * (docs/security.md). Refreshing an existing row needs the token already.
 */
export async function registerWorker(
  db: Queryable,
  args: Registration & { now?: Date | null; token?: string | null },
): Promise<string> {
  const { rows } = await db.query<{ token: string }>(
    `select rowflow.register_worker(id => $1, hostname => $2, pid => $3, concurrency => $4,
                                    tasks => $5::text[], now => $6, token => $7) as token`,
    [
      args.id,
      args.hostname,
      args.pid,
      args.concurrency,
      [...args.tasks],
      args.now ?? null,
      args.token ?? null,
    ],
  );
  return onlyRow(rows, "rowflow.register_worker").token;
}
