// `rowflow schedules`: the cron schedules (rowflow.schedules,
// sql/schema/75_schedules/) with their last tick fired and their next one,
// computed with croner as the workers compute it (src/worker/schedules/).
// A table, or with --json one JSON array on stdout; exit codes as the
// other read commands (operate-reads.ts): 0 ok, 1 error, 2 usage.
import type { Command } from "commander";

import { listSchedules } from "../../db/schedules/list-schedules.js";
import { nextTickOf } from "../../worker/schedules/due-ticks.js";
import {
  databaseOption,
  type DbOptions,
  print,
  render,
  time,
  withDatabase,
} from "../operate-support.js";

export function registerSchedules(program: Command): void {
  program
    .command("schedules")
    .description("list the cron schedules with their last and next ticks")
    .option("--json", "print JSON")
    .option(...databaseOption)
    .action(async (options: DbOptions & { json?: boolean }) => {
      const now = new Date();
      const schedules = await withDatabase(options, (c) => listSchedules(c));
      const rows = schedules.map((s) => {
        const { next, error } = nextTickOf(s, now);
        return {
          name: s.name,
          cron: s.cron,
          timezone: s.timezone,
          workflow: s.workflow,
          catchUp: s.catchUp,
          paused: s.paused,
          lastTick: s.lastTick?.toISOString() ?? null,
          nextTick: next?.toISOString() ?? null,
          ...(error === undefined ? {} : { error }),
        };
      });
      print(options.json ?? false, rows, () =>
        rows.length === 0
          ? "no schedules"
          : render(
              [
                "schedule",
                "cron",
                "timezone",
                "workflow",
                "catch up",
                "paused",
                "last tick",
                "next tick",
              ],
              rows.map((r) => [
                r.name,
                r.cron,
                r.timezone,
                r.workflow,
                r.catchUp,
                r.paused ? "yes" : "no",
                time(r.lastTick === null ? null : new Date(r.lastTick)),
                r.error ?? time(r.nextTick === null ? null : new Date(r.nextTick)),
              ]),
            ),
      );
    });
}
