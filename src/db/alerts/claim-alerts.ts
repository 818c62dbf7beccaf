import type { Queryable } from "../queryable.js";

/** One alert `rowflow.claim_alerts` leased to this worker. */
export interface ClaimedAlert {
  id: number;
  /** The event id: the body's `id` and the `Idempotency-Key` header. */
  eventId: string;
  /** The lease token `recordAlertAttempt` must give back. */
  lease: string;
  /** The number of this attempt (1 for the first). */
  attempt: number;
  runId: number;
  workflow: string;
  createdAt: Date;
  /** Where the retry window starts: the failure, or the last `retry_alerts`. */
  retrySince: Date;
  /** The event as posted (docs/observability.md, "Failure webhook"). */
  body: Record<string, unknown>;
}

/**
 * Calls `rowflow.claim_alerts` (sql/schema/82_alerts/claim_alerts.sql): leases
 * up to `max` due pending alerts of `workflows` (null: all) for `leaseMs`.
 */
export async function claimAlerts(
  db: Queryable,
  args: { workflows: readonly string[] | null; max: number; leaseMs: number; now: Date | null },
): Promise<ClaimedAlert[]> {
  const { rows } = await db.query<Record<string, unknown> & ClaimedAlert>(
    `select id::float8 as id, event_id as "eventId", lease, attempt, run_id::float8 as "runId", workflow,
            created_at as "createdAt", retry_since as "retrySince", body
     from rowflow.claim_alerts(workflows => $1, max => $2, lease_ms => $3, now => $4)`,
    [args.workflows, args.max, args.leaseMs, args.now],
  );
  return rows;
}
