import { onlyRow, type Queryable } from "../queryable.js";

/** What `rowflow.apply_retention` answers. */
export interface RetentionResult {
  /** Whether this call claimed the period (exactly one caller per period does). */
  claimed: boolean;
  /** Runs deleted, when claimed. */
  deleted?: number;
  /** Runs deleted per workflow, when claimed. */
  workflows?: Record<string, number>;
}

/**
 * Calls `rowflow.apply_retention` (sql/schema/85_operate/retention.sql):
 * purges finished runs past their workflow's retention if no other worker
 * did in the last `every` (default one minute).
 */
export async function applyRetention(
  db: Queryable,
  args: { workerId: string; now?: Date | null },
): Promise<RetentionResult> {
  const { rows } = await db.query<{ r: RetentionResult }>(
    "select rowflow.apply_retention(worker_id => $1, now => $2) as r",
    [args.workerId, args.now ?? null],
  );
  return onlyRow(rows, "rowflow.apply_retention").r;
}
