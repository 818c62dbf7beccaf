import { onlyRow, type Queryable } from "../queryable.js";

/** A schedule as `rowflow.define_schedule` takes it. */
export interface ScheduleDefinition {
  name: string;
  cron: string;
  workflow: string;
  input: object;
  timezone: string;
  catchUp: string;
}

/** What `rowflow.define_schedule` answers. */
export interface DefineScheduleAnswer {
  schedule: string;
  changed: boolean;
  created: boolean;
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

/**
 * What a worker does with its schedules at start: defines each when its role
 * may (EXECUTE on define_schedule: operators and the owner), answering
 * whether it changed; else answers whether the database has it as given
 * ("differs" when not: the worker fires what the database holds).
 */
export async function syncOrCheckSchedule(
  db: Queryable,
  s: ScheduleDefinition,
): Promise<"created" | "changed" | "unchanged" | "differs"> {
  const { rows: may } = await db.query<{ may: boolean }>(
    `select pg_catalog.has_function_privilege(
       'rowflow.define_schedule(text, text, text, jsonb, text, text, timestamptz)', 'execute') as may`,
  );
  if (onlyRow(may, "has_function_privilege").may) {
    const r = await defineScheduleRow(db, s);
    return r.created ? "created" : r.changed ? "changed" : "unchanged";
  }
  const { rows } = await db.query(
    `select 1 from rowflow.schedules
     where name = $1 and cron = $2 and workflow = $3 and input = $4::jsonb and timezone = $5 and catch_up = $6`,
    [s.name, s.cron, s.workflow, JSON.stringify(s.input), s.timezone, s.catchUp],
  );
  return rows.length > 0 ? "unchanged" : "differs";
}
