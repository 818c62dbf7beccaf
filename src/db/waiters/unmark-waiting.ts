import type { Queryable } from "../queryable.js";
import type { WakeChannel } from "./mark-waiting.js";

/**
 * Calls `rowflow.unmark_waiting`: `id` no longer waits on `channel` (every
 * channel when null). Asynchronous commit, as in `markWaiting`: a lost unmark
 * only makes writers NOTIFY until the row expires.
 */
export async function unmarkWaiting(
  db: Queryable,
  args: { id: string; channel?: WakeChannel | null },
): Promise<void> {
  await db.query(
    `select pg_catalog.set_config('synchronous_commit', 'off', true) as async_commit,
            rowflow.unmark_waiting(id => $1, channel => $2)`,
    [args.id, args.channel ?? null],
  );
}
