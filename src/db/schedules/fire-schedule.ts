import { onlyRow, type Queryable } from "../queryable.js";

/** What `rowflow.fire_schedule` answers. */
export interface FireResult {
  schedule: string;
  /** The tick, ISO 8601 in UTC. */
  tick: string;
  /** The tick's run (null when paused). */
  run: number | null;
  /** Whether this call started it (false: it already existed, or the schedule is paused). */
  started: boolean;
  reason?: "paused";
}

/**
 * Calls `rowflow.fire_schedule` (sql/schema/75_schedules/fire_schedule.sql):
 * one run per (schedule, tick), whoever else fires the same tick.
 */
export async function fireSchedule(
  db: Queryable,
  args: { name: string; tick: Date; now?: Date | null },
): Promise<FireResult> {
  const { rows } = await db.query<{ r: FireResult }>(
    "select rowflow.fire_schedule(name => $1, tick => $2, now => $3) as r",
    [args.name, args.tick, args.now ?? null],
  );
  return onlyRow(rows, "rowflow.fire_schedule").r;
}
