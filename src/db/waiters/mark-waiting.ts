import type { Queryable } from "../queryable.js";

/** Channels a session can wait on (`rowflow.waiters.channel`). */
export type WakeChannel = "jobs:insert" | "rowflow";

/**
 * Calls `rowflow.mark_waiting`: `id` waits for NOTIFYs on `channel` for
 * `ttlMs` (writers then NOTIFY; while nobody waits they stay quiet).
 *
 * Like `beginStep`, the statement commits with `synchronous_commit` off for
 * its own transaction only: the row is a hint, a server crash that lost it
 * costs one poll interval of latency, and skipping the WAL flush keeps the
 * idle → waiting transition off the commit queue.
 */
export async function markWaiting(
  db: Queryable,
  args: { id: string; channel: WakeChannel; ttlMs: number; now?: Date | null },
): Promise<void> {
  await db.query(
    `select pg_catalog.set_config('synchronous_commit', 'off', true) as async_commit,
            rowflow.mark_waiting(id => $1, channel => $2, ttl => $3 * interval '1 millisecond', now => $4)`,
    [args.id, args.channel, args.ttlMs, args.now ?? null],
  );
}
