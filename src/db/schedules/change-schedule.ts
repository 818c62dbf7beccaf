import { onlyRow, type Queryable } from "../queryable.js";

/** What `rowflow.pause_schedule` / `resume_schedule` answer. */
export interface PauseScheduleAnswer {
  schedule: string;
  paused: boolean;
  changed: boolean;
}

/** Pauses or resumes a schedule (rowflow.pause_schedule / resume_schedule). RF053 if unknown. */
export async function setSchedulePaused(
  db: Queryable,
  name: string,
  paused: boolean,
  reason: string | null,
): Promise<PauseScheduleAnswer> {
  const fn = paused ? "rowflow.pause_schedule" : "rowflow.resume_schedule";
  const { rows } = await db.query<{ r: PauseScheduleAnswer }>(
    `select ${fn}(name => $1, reason => $2) as r`,
    [name, reason],
  );
  return onlyRow(rows, fn).r;
}

/** Drops a schedule (rowflow.drop_schedule); `dropped: false` when there was none. */
export async function dropSchedule(
  db: Queryable,
  name: string,
  reason: string | null,
): Promise<{ schedule: string; dropped: boolean }> {
  const { rows } = await db.query<{ r: { schedule: string; dropped: boolean } }>(
    `select rowflow.drop_schedule(name => $1, reason => $2) as r`,
    [name, reason],
  );
  return onlyRow(rows, "rowflow.drop_schedule").r;
}
