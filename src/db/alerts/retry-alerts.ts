import { onlyRow, type Queryable } from "../queryable.js";

/**
 * Calls `rowflow.retry_alerts` (sql/schema/82_alerts/retry_alerts.sql,
 * operators): failed alerts — the given ids, or all when null — are pending
 * again, due now. Answers how many.
 */
export async function retryAlerts(
  db: Queryable,
  args: { ids: readonly number[] | null; reason?: string | null },
): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    "select rowflow.retry_alerts(ids => $1, reason => $2) as n",
    [args.ids, args.reason ?? null],
  );
  return onlyRow(rows, "rowflow.retry_alerts").n;
}
