import type { Queryable } from "../queryable.js";

/** One row of `rowflow.undelivered_alerts`. */
export interface UndeliveredAlert {
  id: number;
  eventId: string;
  status: "pending" | "failed";
  runId: number;
  workflow: string;
  step: string | null;
  errorMessage: string | null;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: Date;
  nextAttemptAt: Date;
  /** A worker is posting it now. */
  leased: boolean;
}

/** Reads `rowflow.undelivered_alerts` (viewers may), oldest first. */
export async function listUndeliveredAlerts(db: Queryable): Promise<UndeliveredAlert[]> {
  const { rows } = await db.query<Record<string, unknown> & UndeliveredAlert>(
    `select id::float8 as id, event_id as "eventId", status, run_id::float8 as "runId", workflow, step,
            error_message as "errorMessage", attempts, last_status as "lastStatus", last_error as "lastError",
            created_at as "createdAt", next_attempt_at as "nextAttemptAt", leased
     from rowflow.undelivered_alerts order by id`,
  );
  return rows;
}
