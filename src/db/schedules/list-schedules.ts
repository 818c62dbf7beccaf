import type { Queryable } from "../queryable.js";

/** One row of `rowflow.schedules`. */
export interface ScheduleRow {
  name: string;
  cron: string;
  timezone: string;
  workflow: string;
  input: Record<string, unknown>;
  catchUp: "none" | "latest" | "all";
  paused: boolean;
  lastTick: Date | null;
  createdAt: Date;
}

/** Reads `rowflow.schedules` (the workers and viewers may), by name. */
export async function listSchedules(db: Queryable): Promise<ScheduleRow[]> {
  const { rows } = await db.query<Record<string, unknown> & ScheduleRow>(
    `select name, cron, timezone, workflow, input, catch_up as "catchUp", paused,
            last_tick as "lastTick", created_at as "createdAt"
     from rowflow.schedules order by name`,
  );
  return rows;
}
