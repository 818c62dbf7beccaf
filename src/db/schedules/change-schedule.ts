import { onlyRow, type Queryable } from "../queryable.js";
import type { ScheduleDefinition } from "./define-schedule.js";

/** What `rowflow.define_schedule` answers. */
export interface DefineScheduleAnswer {
  schedule: string;
  changed: boolean;
  created: boolean;
}

/** What `rowflow.pause_schedule` / `resume_schedule` answer. */
export interface PauseScheduleAnswer {
  schedule: string;
  paused: boolean;
  changed: boolean;
}

/** Defines or changes a schedule (rowflow.define_schedule, operators only). Throws its RF errors. */
export async function defineScheduleRow(
  db: Queryable,
  s: ScheduleDefinition,
): Promise<DefineScheduleAnswer> {
  const { rows } = await db.query<{ r: DefineScheduleAnswer }>(
    `select rowflow.define_schedule(name => $1, cron => $2, workflow => $3, input => $4::jsonb,
       timezone => $5, catch_up => $6) as r`,
    [s.name, s.cron, s.workflow, JSON.stringify(s.input), s.timezone, s.catchUp],
  );
  return onlyRow(rows, "rowflow.define_schedule").r;
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
