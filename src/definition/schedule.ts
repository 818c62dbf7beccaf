/**
 * `defineSchedule`: a cron schedule that starts runs of a workflow
 * (sql/schema/75_schedules/). Cron expressions are parsed by croner: no
 * dependencies, an optional seconds field, `@daily`-style nicknames and IANA
 * timezones with DST handled (a local time skipped by a spring-forward
 * change fires at the first time after it, one repeated by a fall-back
 * change fires once). The same checks run again in SQL (define_schedule),
 * which can only check the expression's shape.
 */
import { Cron } from "croner";
import { z } from "zod";

import { RowflowError } from "../errors.js";

/** What a schedule does about ticks missed while no worker ran (or while it was paused). */
export type CatchUp = "none" | "latest" | "all";

/** Options of `defineSchedule`. */
export interface ScheduleOptions {
  /** Schedule name: lower-case letters, digits, `_` and `-`, starting with a letter, at most 63. */
  name: string;
  /** Cron expression: five fields, six with seconds first, or a nickname such as `@daily` or `@hourly`. */
  cron: string;
  /** The workflow each tick starts, by name or as `defineWorkflow` returned it. */
  workflow: string | { readonly name: string };
  /** The run's input; each run also gets `scheduledAt`, the tick as an ISO 8601 UTC string. (Default: `{}`) */
  input?: Record<string, unknown>;
  /** IANA timezone the cron expression is read in. (Default: `"UTC"`) */
  timezone?: string;
  /** Missed ticks: `none` skips them, `latest` runs the most recent one, `all` runs each (at most 100 per heartbeat, oldest first). (Default: `"latest"`) */
  catchUp?: CatchUp;
}

/** A validated schedule, as the worker syncs it (`rowflow.define_schedule`). */
export interface Schedule {
  readonly name: string;
  readonly cron: string;
  readonly workflow: string;
  readonly input: Readonly<Record<string, unknown>>;
  readonly timezone: string;
  readonly catchUp: CatchUp;
}

/** Codes of schedule errors: the SQLSTATEs define_schedule raises for the same problems. */
export const ScheduleErrorCodes = {
  invalid: "RF050",
  timezone: "RF051",
  catchUp: "RF052",
} as const;

/** A schedule option is invalid (thrown by `defineSchedule` and the worker's sync). */
export class ScheduleError extends RowflowError {
  /** The schedule's name, as given. */
  readonly schedule: string;

  constructor(message: string, options: { code: string; schedule: string; cause?: unknown }) {
    super(message, options);
    this.schedule = options.schedule;
  }
}

const optionsSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, {
    message:
      'lower-case letters, digits, "_" and "-", starting with a letter, at most 63 characters',
  }),
  cron: z.string().min(1).max(200),
  workflow: z.union([z.string().min(1), z.object({ name: z.string().min(1) })]),
  input: z.record(z.string(), z.unknown()).optional(),
  timezone: z.string().min(1).optional(),
  catchUp: z.enum(["none", "latest", "all"]).optional(),
});

/** Validates a schedule. Throws a `ScheduleError` naming the problem (croner's message for a bad cron). */
export function defineSchedule(options: ScheduleOptions): Schedule {
  const label = typeof options?.name === "string" ? options.name : "?";
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join(".") ?? "";
    const code = where === "catchUp" ? ScheduleErrorCodes.catchUp : ScheduleErrorCodes.invalid;
    throw new ScheduleError(`schedule "${label}": ${where ? `${where}: ` : ""}${issue?.message}`, {
      code,
      schedule: label,
    });
  }
  const o = parsed.data;
  const timezone = o.timezone ?? "UTC";
  const cron = o.cron.trim();
  parseCron(cron, timezone, o.name);
  return Object.freeze({
    name: o.name,
    cron,
    workflow: typeof o.workflow === "string" ? o.workflow : o.workflow.name,
    input: Object.freeze({ ...o.input }),
    timezone,
    catchUp: o.catchUp ?? "latest",
  });
}

/**
 * A croner job (paused: it never fires by itself) for `cron` in `timezone`.
 * Throws a `ScheduleError`: RF051 for an unknown timezone, RF050 with
 * croner's message (which names the field and value) for a bad expression.
 */
export function parseCron(cron: string, timezone: string, schedule: string): Cron {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
  } catch (error) {
    throw new ScheduleError(
      `schedule "${schedule}": unknown timezone "${timezone}": use an IANA name such as Europe/Berlin`,
      { code: ScheduleErrorCodes.timezone, schedule, cause: error },
    );
  }
  try {
    return new Cron(cron, { timezone, paused: true });
  } catch (error) {
    throw new ScheduleError(
      `schedule "${schedule}": invalid cron expression "${cron}": ${(error as Error).message}`,
      { code: ScheduleErrorCodes.invalid, schedule, cause: error },
    );
  }
}
