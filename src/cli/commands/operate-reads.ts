// The operator's commands, read ones here (runs, show, explain), actions in
// operate-actions.ts (retry, skip, cancel, pause, resume, purge).
// Each is one call of the SQL function of the same job
// (sql/schema/85_operate/, docs/sql-api.md), so psql, the CLI and any client
// do the same thing. Read commands print a table (cli-table3: the most used
// table renderer for Node CLIs, no dependencies of its own) or, with --json,
// one JSON document on stdout; messages about the database go to stderr, so
// --json output can be piped. Exit codes: 0 ok, 1 error (one line, with the
// RF code), 2 usage.
import type { Command } from "commander";

import { explainRun } from "../../db/runs/operate.js";
import {
  databaseOption,
  type DbOptions,
  errorMessage,
  parseInterval,
  print,
  render,
  runId,
  time,
  UsageError,
  withDatabase,
} from "../operate-support.js";
import { positiveInteger } from "../parse-options.js";

export function registerOperateReads(program: Command): void {
  program
    .command("runs")
    .description("list runs, newest first")
    .option("--workflow <name>", "only this workflow's runs")
    .option("--status <status>", "only runs with this status (queued, running, failed, …)")
    .option("--since <interval>", "only runs created within this interval (30m, 12h, 7d, …)")
    .option("--limit <n>", "at most this many (default 50)", positiveInteger)
    .option("--table <table>", "only the runs a row of this attached table started (with --key)")
    .option(
      "--key <value>",
      "the row's primary key value (repeat it for each column of a composite key)",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option("--json", "print JSON")
    .option(...databaseOption)
    .action(
      async (
        options: DbOptions & {
          workflow?: string;
          status?: string;
          since?: string;
          limit?: number;
          table?: string;
          key?: string[];
          json?: boolean;
        },
      ) => {
        if ((options.table === undefined) !== (options.key === undefined))
          throw new UsageError(
            "--table and --key go together: rowflow runs --table shop.orders --key 42",
          );
        const since = options.since ? parseInterval(options.since) : null;
        // A row's runs come from rowflow.runs_for (its source-row index);
        // the SQL text is one of two constants, the values are parameters.
        const source = options.table
          ? "rowflow.runs_for($5::text::regclass, variadic $6::text[])"
          : "rowflow.runs";
        const rows = await withDatabase(options, async (c) => {
          const { rows } = await c.query(
            `select id::text, workflow, version, status, created_at, finished_at, error
             from ${source}
             where ($1::text is null or workflow = $1) and ($2::text is null or status = $2)
               and ($3::interval is null or created_at > now() - $3::interval)
             order by id desc limit $4`,
            [
              options.workflow ?? null,
              options.status ?? null,
              since,
              options.limit ?? 50,
              ...(options.table ? [options.table, options.key] : []),
            ],
          );
          return rows as Array<Record<string, unknown>>;
        });
        print(options.json ?? false, rows, () =>
          rows.length === 0
            ? "no runs"
            : render(
                ["run", "workflow", "v", "status", "created", "finished", "error"],
                rows.map((r) => [
                  r.id,
                  r.workflow,
                  r.version,
                  r.status,
                  time(r.created_at),
                  time(r.finished_at),
                  errorMessage(r.error),
                ]),
              ),
        );
      },
    );

  program
    .command("show <run>")
    .description(
      "a run's steps, indented by their depth in the DAG, with status (or what a waiting step waits for, a child step's run), attempt, duration and last error; a child run names its parent",
    )
    .option("--json", "print JSON")
    .option(...databaseOption)
    .action(async (run: string, options: DbOptions & { json?: boolean }) => {
      const id = runId(run);
      const result = await withDatabase(options, async (c) => {
        const { rows: runs } = await c.query(
          `select id::text, workflow, version, status, input, error, created_at, finished_at,
                  parent_run_id::text as parent_run, parent_step
           from rowflow.runs where id = $1`,
          [id],
        );
        if (runs.length === 0)
          throw Object.assign(new Error(`unknown run ${id}`), { code: "RF023" });
        // Depth: the longest path from a root, so dependents print below what they wait on.
        const { rows: steps } = await c.query(
          `with recursive depth(name, d) as (
             select ws.name, 0 from rowflow.workflow_steps ws
             where ws.workflow = $2 and ws.version = $3 and ws.n_deps = 0
             union all
             select dep.name, depth.d + 1 from depth
             join rowflow.workflow_steps ws on ws.workflow = $2 and ws.version = $3 and ws.name = depth.name
             cross join unnest(ws.dependents) as dep(name)
           )
           select s.step, s.kind, s.status, s.attempt, s.output, s.error, s.elements,
                  coalesce((select max(d) from depth where depth.name = s.step), 0) as depth,
                  extract(epoch from (s.finished_at - s.started_at)) * 1000 as duration_ms,
                  case w.kind when 'signal' then 'signal ' || w.signal
                              when 'human' then 'task ' || w.task_id
                              when 'row' then 'a row of ' || w.relid::regclass::text
                              when 'child' then 'child run ' || w.child_run_id end as waiting_for,
                  s.child_run_id::text as child_run
           from rowflow.run_steps s
           left join rowflow.step_waits w on w.run_id = s.run_id and w.step = s.step
           where s.run_id = $1
           order by case s.kind when 'step' then 0 else 1 end, depth, s.step`,
          [id, runs[0].workflow, runs[0].version],
        );
        return {
          run: runs[0] as Record<string, unknown>,
          steps: steps as Array<Record<string, unknown>>,
        };
      });
      print(options.json ?? false, result, () => {
        const r = result.run;
        const parent =
          r.parent_run === null
            ? ""
            : `, child of run ${String(r.parent_run)} step ${String(r.parent_step)}`;
        const head = `run ${String(r.id)}: ${String(r.workflow)} v${String(r.version)}, ${String(r.status)}${parent}`;
        const table = render(
          ["step", "status", "attempt", "duration", "last error"],
          result.steps.map((s) => [
            `${"  ".repeat(Number(s.depth))}${String(s.step)}`,
            s.waiting_for !== null
              ? `waiting for ${String(s.waiting_for)}`
              : s.child_run === null
                ? `${String(s.status)}${elementsText(s.elements)}`
                : `${String(s.status)} (child run ${String(s.child_run)})`,
            s.attempt,
            s.duration_ms === null ? null : `${Math.round(Number(s.duration_ms))} ms`,
            errorMessage(s.error),
          ]),
        );
        return `${head}\n${table}`;
      });
    });

  program
    .command("explain <run>")
    .description("why each unfinished step of a run is not running (rowflow.explain_run)")
    .option("--json", "print JSON")
    .option(...databaseOption)
    .action(async (run: string, options: DbOptions & { json?: boolean }) => {
      const id = runId(run);
      const rows = await withDatabase(options, (c) => explainRun(c, id));
      print(options.json ?? false, rows, () =>
        render(
          ["step", "status", "code", "why"],
          rows.map((r) => [r.step ?? "(run)", r.status, r.code, r.reason]),
        ),
      );
    });
}

/** A map step's element counts (rowflow.run_steps.elements), as " (9000/10000 elements done, 3 failed)". */
function elementsText(elements: unknown): string {
  if (typeof elements !== "object" || elements === null) return "";
  const { total, open, failed } = elements as { total: number; open: number; failed: number };
  return ` (${total - open}/${total} elements done${failed > 0 ? `, ${failed} failed` : ""})`;
}
