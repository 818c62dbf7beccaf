// The operator's action commands: retry, rerun, skip, cancel, pause, resume,
// retention, purge
// (operate-reads.ts says how the commands behave).
import type { Command } from "commander";

import { cancelRun } from "../../db/runs/cancel-run.js";
import {
  purgeRuns,
  rerunFrom,
  type RetryMode,
  retryRun,
  setPaused,
  setRetention,
  skipStep,
} from "../../db/runs/operate.js";
import {
  databaseOption,
  type DbOptions,
  parseInterval,
  runId,
  UsageError,
  withDatabase,
} from "../operate-support.js";
import { positiveInteger } from "../parse-options.js";

export function registerOperateActions(program: Command): void {
  const answer = (value: unknown, line: string, json?: boolean) =>
    console.log(json ? JSON.stringify(value, null, 2) : line);

  program
    .command("retry <run>")
    .description("run a failed or cancelled run's failed steps again (rowflow.retry_run)")
    .option("--mode <mode>", "failed (default) or failed_and_downstream")
    .option("--reason <text>", "why, for the audit")
    .option("--json", "print the function's answer as JSON")
    .option(...databaseOption)
    .action(
      async (
        run: string,
        options: DbOptions & { mode?: string; reason?: string; json?: boolean },
      ) => {
        const id = runId(run);
        // The SQL function refuses an unknown mode (RF043).
        const mode = (options.mode ?? "failed") as RetryMode;
        const r = await withDatabase(options, (c) => retryRun(c, id, mode, options.reason ?? null));
        const steps = r.steps ?? [];
        const line = r.retried
          ? `run ${id}: ${String(r.from)} → ${String(r.status)}; again: ${steps.join(", ") || "(the whole run)"}` +
            (r.warning ? `\nwarning: ${String(r.warning)}` : "")
          : `run ${id} is ${String(r.status)}: nothing to retry`;
        answer(r, line, options.json);
      },
    );

  program
    .command("rerun <run>")
    .description(
      "a new run of the same version and input from a step: upstream outputs copied (rowflow.rerun_from)",
    )
    .requiredOption("--from <step>", "the step to run again, with everything downstream of it")
    .option("--reason <text>", "why, for the audit")
    .option("--json", "print the function's answer as JSON")
    .option(...databaseOption)
    .action(
      async (
        run: string,
        options: DbOptions & { from: string; reason?: string; json?: boolean },
      ) => {
        const id = runId(run);
        const r = await withDatabase(options, (c) =>
          rerunFrom(c, id, options.from, options.reason ?? null),
        );
        const copied = r.copied;
        const line =
          `run ${r.run} reruns run ${id} from ${options.from}` +
          (copied.length > 0 ? `; copied ${copied.join(", ")}` : "");
        answer(r, line, options.json);
      },
    );

  program
    .command("skip <run> <step>")
    .description(
      "settle a pending or queued step by hand: succeeded with --output, else skipped (rowflow.skip_step)",
    )
    .option("--output <json>", "the step's output, a JSON object")
    .option("--reason <text>", "why, for the audit")
    .option("--json", "print the function's answer as JSON")
    .option(...databaseOption)
    .action(
      async (
        run: string,
        step: string,
        options: DbOptions & { output?: string; reason?: string; json?: boolean },
      ) => {
        const id = runId(run);
        let output: Record<string, unknown> | null = null;
        if (options.output !== undefined) {
          try {
            // Not an object: the SQL function refuses it (RF043).
            output = JSON.parse(options.output) as Record<string, unknown>;
          } catch {
            throw new UsageError(`--output is not JSON: ${options.output}`);
          }
        }
        const r = await withDatabase(options, (c) =>
          skipStep(c, { runId: id, step, output, reason: options.reason ?? null }),
        );
        const released = r.released ?? [];
        const line = r.skipped
          ? `run ${id} step ${step}: ${String(r.from)} → ${r.status}` +
            (released.length > 0 ? `; released ${released.join(", ")}` : "") +
            `; run ${r.runStatus}`
          : `run ${id} step ${step} is already ${r.status}`;
        answer(r, line, options.json);
      },
    );

  program
    .command("cancel <run>")
    .description("cancel a queued or active run (rowflow.cancel_run)")
    .option("--reason <text>", "why, for the run's event and the audit")
    .option("--compensate", "undo the succeeded steps first (their compensate tasks), then cancel")
    .option(...databaseOption)
    .action(async (run: string, options: DbOptions & { reason?: string; compensate?: boolean }) => {
      const id = runId(run);
      const cancelled = await withDatabase(options, (c) =>
        cancelRun(c, {
          runId: id,
          reason: options.reason ?? null,
          compensate: options.compensate ?? false,
        }),
      );
      console.log(
        !cancelled
          ? `run ${id} had already ended${options.compensate ? " (or is compensating already)" : ""}`
          : options.compensate
            ? `run ${id} cancelled; its succeeded steps are compensated first (status compensating until then)`
            : `run ${id} cancelled`,
      );
    });

  for (const [name, paused, verb] of [
    ["pause", true, "paused"],
    ["resume", false, "resumed"],
  ] as const) {
    program
      .command(`${name} <workflow>`)
      .description(
        name === "pause"
          ? "pause a workflow: its new runs are created and wait, queued (rowflow.pause_workflow)"
          : "resume a paused workflow: its queued runs are claimed (rowflow.resume_workflow)",
      )
      .option("--reason <text>", "why, for the audit")
      .option("--json", "print the function's answer as JSON")
      .option(...databaseOption)
      .action(
        async (workflow: string, options: DbOptions & { reason?: string; json?: boolean }) => {
          const r = await withDatabase(options, (c) =>
            setPaused(c, workflow, paused, options.reason ?? null),
          );
          const line = r.changed
            ? `workflow ${workflow} ${verb} (${String(r.queuedRuns)} queued run(s))`
            : `workflow ${workflow} was already ${r.paused ? "paused" : "running"}`;
          answer(r, line, options.json);
        },
      );
  }

  program
    .command("retention <workflow> <interval>")
    .description(
      "keep a workflow's finished runs for <interval> (30d, 12h, a Postgres interval; 'forever' to keep them all); the workers purge older ones (rowflow.set_retention)",
    )
    .option("--reason <text>", "why, for the audit")
    .option("--json", "print the function's answer as JSON")
    .option(...databaseOption)
    .action(
      async (
        workflow: string,
        interval: string,
        options: DbOptions & { reason?: string; json?: boolean },
      ) => {
        const retention = interval === "forever" ? null : parseInterval(interval);
        const r = await withDatabase(options, (c) =>
          setRetention(c, workflow, retention, options.reason ?? null),
        );
        const kept = r.retention === null ? "forever" : `for ${r.retention}`;
        answer(
          r,
          r.changed
            ? `workflow ${workflow}: finished runs kept ${kept}`
            : `workflow ${workflow}: already kept ${kept}`,
          options.json,
        );
      },
    );

  program
    .command("purge")
    .description("delete finished runs older than an interval, in batches (rowflow.purge_runs)")
    .requiredOption(
      "--older-than <interval>",
      "finished more than this long ago (30d, 12h, or a Postgres interval)",
    )
    .option(
      "--status <list>",
      "comma-separated finished statuses (default succeeded,failed,cancelled)",
    )
    .option("--workflow <name>", "only this workflow's runs")
    .option("--batch <n>", "runs per transaction (default 1000)", positiveInteger)
    .option("--reason <text>", "why, for the audit")
    .option("--dry-run", "count what would be deleted, delete nothing")
    .option("--json", "print {deleted} or {wouldDelete} as JSON")
    .option(...databaseOption)
    .action(
      async (
        options: DbOptions & {
          olderThan: string;
          status?: string;
          workflow?: string;
          batch?: number;
          reason?: string;
          dryRun?: boolean;
          json?: boolean;
        },
      ) => {
        const interval = parseInterval(options.olderThan);
        const statuses = options.status?.split(",").map((s) => s.trim()) ?? [
          "succeeded",
          "failed",
          "cancelled",
        ];
        const result = await withDatabase(options, async (c) => {
          if (options.dryRun) {
            // Validates the arguments the same way (a purge of batch 1 rolled back), then counts.
            await c.query("begin");
            try {
              await c.query("select rowflow.purge_runs($1::interval, $2::text[], $3, 1)", [
                interval,
                statuses,
                options.workflow ?? null,
              ]);
            } finally {
              await c.query("rollback");
            }
            const { rows } = await c.query<{ n: number }>(
              `select count(*)::int as n from rowflow.runs
               where status = any ($2::text[]) and finished_at < now() - $1::interval
                 and ($3::text is null or workflow = $3)`,
              [interval, statuses, options.workflow ?? null],
            );
            return { wouldDelete: rows[0]!.n };
          }
          const progress = process.stderr.isTTY && !options.json;
          const deleted = await purgeRuns(
            c,
            {
              olderThan: interval,
              statuses,
              workflow: options.workflow ?? null,
              batch: options.batch ?? 1000,
              reason: options.reason ?? null,
            },
            progress ? (n) => process.stderr.write(`\rdeleted ${n} run(s)…`) : undefined,
          );
          if (progress) process.stderr.write("\n");
          return { deleted };
        });
        answer(
          result,
          "wouldDelete" in result
            ? `would delete ${result.wouldDelete} run(s)`
            : `deleted ${result.deleted} run(s)`,
          options.json,
        );
      },
    );
}
