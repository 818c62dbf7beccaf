// `rowflow schedule define|pause|resume|drop`: the operators' schedule
// actions, each one call of its SQL function (sql/schema/75_schedules/), so
// the CLI checks nothing the database would not: define first validates the
// schedule as the config's defineSchedule does (croner's message for a bad
// cron, before anything is written). Exit codes as the other action
// commands: 0 done (also when nothing changed), 1 refused or bad input
// (with its RF code), 2 usage.
import type { Command } from "commander";

import { dropSchedule, setSchedulePaused } from "../../db/schedules/change-schedule.js";
import { defineScheduleRow } from "../../db/schedules/define-schedule.js";
import { type CatchUp, defineSchedule } from "../../definition/schedule.js";
import {
  databaseOption,
  type DbOptions,
  jsonOption,
  print,
  UsageError,
  withDatabase,
} from "../operate-support.js";

interface DefineOptions extends DbOptions {
  cron: string;
  workflow: string;
  input?: string;
  timezone?: string;
  catchUp?: string;
  json?: boolean;
}

// print's JSON is the function's answer; the line is the table form.
const answer = (value: unknown, line: string, json?: boolean) =>
  print(json ?? false, value, () => line);

export function registerScheduleActions(program: Command): void {
  const schedule = program
    .command("schedule")
    .description("define, pause, resume or drop a cron schedule (operators)");

  schedule
    .command("define <name>")
    .description("define a schedule, or change it (rowflow.define_schedule)")
    .requiredOption("--cron <expression>", "five fields, six with seconds first, or @daily etc.")
    .requiredOption("--workflow <name>", "the workflow each tick starts")
    .option("--input <json>", "the runs' input, a JSON object (default: {})")
    .option("--timezone <iana>", "the timezone the cron is read in (default: UTC)")
    .option("--catch-up <mode>", "none, latest (default) or all")
    .option("--json", "print the function's answer as JSON")
    .option(...databaseOption)
    .action(async (name: string, options: DefineOptions) => {
      const input = options.input === undefined ? {} : jsonOption("--input", options.input);
      if (typeof input !== "object" || input === null || Array.isArray(input)) {
        throw new UsageError(`--input must be a JSON object: ${options.input}`);
      }
      const s = defineSchedule({
        name,
        cron: options.cron,
        workflow: options.workflow,
        input: input as Record<string, unknown>,
        ...(options.timezone === undefined ? {} : { timezone: options.timezone }),
        ...(options.catchUp === undefined ? {} : { catchUp: options.catchUp as CatchUp }),
      });
      const r = await withDatabase(options, (c) => defineScheduleRow(c, s));
      const what = r.created ? "defined" : r.changed ? "changed" : "unchanged";
      answer(
        r,
        `schedule ${name}: ${what} (${s.cron} ${s.timezone} → ${s.workflow})`,
        options.json,
      );
    });

  for (const paused of [true, false]) {
    const verb = paused ? "pause" : "resume";
    schedule
      .command(`${verb} <name>`)
      .description(
        paused
          ? "stop a schedule firing (rowflow.pause_schedule)"
          : "let a paused schedule fire again; its catch-up decides about missed ticks (rowflow.resume_schedule)",
      )
      .option("--reason <text>", "why, for the audit")
      .option("--json", "print the function's answer as JSON")
      .option(...databaseOption)
      .action(async (name: string, options: DbOptions & { reason?: string; json?: boolean }) => {
        const r = await withDatabase(options, (c) =>
          setSchedulePaused(c, name, paused, options.reason ?? null),
        );
        const state = r.paused ? "paused" : "active";
        answer(r, `schedule ${name}: ${r.changed ? state : `already ${state}`}`, options.json);
      });
  }

  schedule
    .command("drop <name>")
    .description("delete a schedule; its runs stay (rowflow.drop_schedule)")
    .option("--reason <text>", "why, for the audit")
    .option("--json", "print the function's answer as JSON")
    .option(...databaseOption)
    .action(async (name: string, options: DbOptions & { reason?: string; json?: boolean }) => {
      const r = await withDatabase(options, (c) => dropSchedule(c, name, options.reason ?? null));
      answer(r, `schedule ${name}: ${r.dropped ? "dropped" : "no such schedule"}`, options.json);
    });
}
