/**
 * The workers' side of schedules: on each heartbeat every worker reads
 * rowflow.schedules, computes each unpaused schedule's due ticks
 * (due-ticks.ts) and fires them (rowflow.fire_schedule). Several workers
 * fire the same ticks; the database starts one run per tick (its unique
 * idempotency index), so no worker coordinates with another. A tick is
 * fired within one heartbeat interval of its time.
 */
import type { Queryable } from "../../db/queryable.js";
import { type FireResult, fireSchedule } from "../../db/schedules/fire-schedule.js";
import { listSchedules } from "../../db/schedules/list-schedules.js";
import type { Logger } from "../../definition/logger.js";
import { parseCron, ScheduleError } from "../../definition/schedule.js";
import { coerceError, RowflowError } from "../../errors.js";
import { dueTicks } from "./due-ticks.js";

export interface FireDueOptions {
  /** The clock deciding which ticks are due; also handed to fire_schedule when injected. */
  now: Date;
  /** Whether `now` is an injected clock (then the SQL functions get it too). */
  injected: boolean;
  /** `none`'s window: how late a tick may be seen and still run, in ms. */
  windowMs: number;
  logger: Logger;
  /** Schedules already reported as unparsable (each is reported once per worker). */
  reported: Set<string>;
}

/** Fires the due ticks of every schedule; answers what fire_schedule answered, in order. */
export async function fireDueSchedules(
  db: Queryable,
  options: FireDueOptions,
): Promise<FireResult[]> {
  const fired: FireResult[] = [];
  for (const schedule of await listSchedules(db)) {
    if (schedule.paused) continue;
    let ticks: Date[];
    try {
      const cron = parseCron(schedule.cron, schedule.timezone, schedule.name);
      ticks = dueTicks({ ...schedule, cron, now: options.now, windowMs: options.windowMs });
    } catch (error) {
      if (!(error instanceof ScheduleError)) throw error;
      if (!options.reported.has(schedule.name)) {
        options.reported.add(schedule.name);
        options.logger.warn(`${error.message}; it fires nothing until it is redefined`);
      }
      continue;
    }
    for (const tick of ticks) {
      let result: FireResult;
      try {
        result = await fireSchedule(db, {
          name: schedule.name,
          tick,
          now: options.injected ? options.now : null,
        });
      } catch (caught) {
        // One schedule's refusal (dropped meanwhile: RF053) must not stop the others';
        // the tick is not recorded, so the next heartbeat tries it again.
        const error = coerceError(caught);
        const code = error instanceof RowflowError ? ` [${error.code}]` : "";
        options.logger.warn(
          `schedule "${schedule.name}": firing ${tick.toISOString()} failed: ${error.message}${code}`,
        );
        break;
      }
      if (result.started) {
        options.logger.info(
          `schedule "${schedule.name}": started run ${result.run} for the tick ${result.tick}`,
        );
      }
      fired.push(result);
    }
  }
  return fired;
}
