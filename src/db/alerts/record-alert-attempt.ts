import { onlyRow, type Queryable } from "../queryable.js";

/** What `rowflow.record_alert_attempt` answers. */
export type AlertAttemptResult =
  | { ok: true; status: "delivered" | "pending" | "failed"; attempt: number }
  | { ok: false; reason: "not_lease_holder" };

/** One delivery attempt's outcome: an HTTP status, or an error (refused, timed out). */
export interface AlertAttempt {
  id: number;
  lease: string;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  /** When to try again if this attempt did not deliver; null: give up. */
  retryAt: Date | null;
  workerId: string | null;
  now: Date | null;
}

/**
 * Calls `rowflow.record_alert_attempt` (sql/schema/82_alerts/record_alert_attempt.sql):
 * records the attempt; a 2xx delivers the alert, else it is due again at
 * `retryAt` or failed. Refused (`ok: false`) when the lease ended.
 */
export async function recordAlertAttempt(
  db: Queryable,
  attempt: AlertAttempt,
): Promise<AlertAttemptResult> {
  const { rows } = await db.query<{ r: AlertAttemptResult }>(
    `select rowflow.record_alert_attempt(id => $1, lease => $2, status_code => $3, error => $4,
       duration_ms => $5, retry_at => $6, worker_id => $7, now => $8) as r`,
    [
      attempt.id,
      attempt.lease,
      attempt.statusCode,
      attempt.error,
      attempt.durationMs,
      attempt.retryAt,
      attempt.workerId,
      attempt.now,
    ],
  );
  return onlyRow(rows, "rowflow.record_alert_attempt").r;
}
