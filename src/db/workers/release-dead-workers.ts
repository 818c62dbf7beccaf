import { onlyRow, type Queryable } from "../queryable.js";

/**
 * Calls `rowflow.release_dead_workers`: unlocks the graphile-worker jobs of
 * workers silent for longer than `timeoutMs`; returns their ids.
 */
export async function releaseDeadWorkers(
  db: Queryable,
  args: { timeoutMs: number; now?: Date | null },
): Promise<string[]> {
  const { rows } = await db.query<{ ids: string[] }>(
    "select rowflow.release_dead_workers(timeout => $1 * interval '1 millisecond', now => $2) as ids",
    [args.timeoutMs, args.now ?? null],
  );
  return onlyRow(rows, "rowflow.release_dead_workers").ids;
}
