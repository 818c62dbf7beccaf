// Human tasks from the command line (sql/schema/78_waits/, docs/cli.md):
// `rowflow tasks` lists them (rowflow.tasks, or with --assignee one person's
// inbox, rowflow.inbox); `rowflow task complete | claim | reassign` act on
// one as a named person (--as), each one call of the SQL function of the
// same name. Refusals come back as the SQL raised them and exit 1: RF063
// unknown task, RF064 not open, RF065 not theirs, RF066 an answer that does
// not match the form (every problem printed: src/cli/operate-support.ts
// printError). Bad usage exits 2, as in the other operator commands.
import type { Command } from "commander";

import {
  claimTask,
  completeTask,
  type HumanTask,
  listTasks,
  reassignTask,
  type TaskStatus,
} from "../../db/waits/tasks.js";
import {
  databaseOption,
  type DbOptions,
  jsonOption,
  positiveId,
  print,
  render,
  runId,
  time,
  UsageError,
  withDatabase,
} from "../operate-support.js";
import { positiveInteger } from "../parse-options.js";

const STATUSES: readonly TaskStatus[] = ["open", "claimed", "done", "expired", "cancelled"];

const repeat = (value: string, previous: string[] = []) => [...previous, value];

interface ActorOptions extends DbOptions {
  as: string;
  group?: string[];
}

export function registerTasks(program: Command): void {
  program
    .command("tasks")
    .description(
      "list human tasks, most urgent first (rowflow.tasks; with --assignee, rowflow.inbox)",
    )
    .option(
      "--assignee <who>",
      "one person's inbox: theirs, their groups' (--group), claimed by them",
    )
    .option("--group <group>", "a group the assignee is in (repeat it)", repeat)
    .option(
      "--status <list>",
      `comma-separated: ${STATUSES.join(", ")}, or all (default open,claimed)`,
    )
    .option("--overdue", "only tasks open or claimed past their due time")
    .option("--workflow <name>", "only this workflow's tasks")
    .option("--run <id>", "only this run's tasks")
    .option("--limit <n>", "at most this many (default 100)", positiveInteger)
    .option("--json", "print JSON")
    .option(...databaseOption)
    .action(
      async (
        options: DbOptions & {
          assignee?: string;
          group?: string[];
          status?: string;
          overdue?: boolean;
          workflow?: string;
          run?: string;
          limit?: number;
          json?: boolean;
        },
      ) => {
        if (options.group && options.assignee === undefined)
          throw new UsageError(
            "--group goes with --assignee: rowflow tasks --assignee ann --group managers",
          );
        const status = statuses(options.status ?? "open,claimed");
        const run = options.run === undefined ? undefined : runId(options.run);
        const tasks = await withDatabase(options, (c) =>
          listTasks(c, {
            assignee: options.assignee,
            groups: options.group,
            status,
            workflow: options.workflow,
            runId: run,
            overdue: options.overdue ?? false,
            limit: options.limit,
          }),
        );
        print(options.json ?? false, tasks, () =>
          tasks.length === 0 ? "no tasks" : taskTable(tasks),
        );
      },
    );

  const task = program
    .command("task")
    .description("act on a human task as a named person: complete, claim, reassign");

  task
    .command("complete <id>")
    .description(
      "complete a task with an answer checked against its form: its step succeeds with the answer (rowflow.complete_task)",
    )
    .requiredOption("--as <person>", "who completes it (the assignee, or who claimed it)")
    .requiredOption("--answer <json>", "the answer, JSON matching the task's form")
    .option("--group <group>", "a group the person is in (repeat it)", repeat)
    .option("--override", "as an operator, complete it for its assignee (audited)")
    .option("--json", "print the function's answer as JSON")
    .option(...databaseOption)
    .action(
      async (
        id: string,
        options: ActorOptions & { answer: string; override?: boolean; json?: boolean },
      ) => {
        const taskId = positiveId(id, "task");
        const answer = jsonOption("--answer", options.answer);
        const r = await withDatabase(options, (c) =>
          completeTask(c, taskId, {
            by: options.as,
            groups: options.group,
            answer,
            override: options.override ?? false,
          }),
        );
        const line =
          `task ${taskId} completed by ${options.as}: run ${r.run} step ${r.step} succeeded` +
          (r.released.length > 0 ? `; released ${r.released.join(", ")}` : "") +
          `; run ${r.runStatus}`;
        console.log(options.json ? JSON.stringify(r, null, 2) : line);
      },
    );

  task
    .command("claim <id>")
    .description("claim an open task: from then on only you complete it (rowflow.claim_task)")
    .requiredOption("--as <person>", "who claims it (its assignee, or a member of its group)")
    .option("--group <group>", "a group the person is in (repeat it)", repeat)
    .option(...databaseOption)
    .action(async (id: string, options: ActorOptions) => {
      const taskId = positiveId(id, "task");
      await withDatabase(options, (c) =>
        claimTask(c, taskId, { by: options.as, groups: options.group }),
      );
      console.log(`task ${taskId} claimed by ${options.as}`);
    });

  task
    .command("reassign <id>")
    .description("hand a task to another person or group; it is open again (rowflow.reassign_task)")
    .requiredOption("--to <who>", "the new assignee: a person or a group")
    .requiredOption("--as <person>", "who reassigns it (its assignee or claimer, or an operator)")
    .option("--group <group>", "a group the person is in (repeat it)", repeat)
    .option("--reason <text>", "why, for the run's event and the audit")
    .option(...databaseOption)
    .action(async (id: string, options: ActorOptions & { to: string; reason?: string }) => {
      const taskId = positiveId(id, "task");
      await withDatabase(options, (c) =>
        reassignTask(c, taskId, options.to, {
          by: options.as,
          groups: options.group,
          reason: options.reason,
        }),
      );
      console.log(`task ${taskId} reassigned to ${options.to} by ${options.as}; it is open`);
    });
}

function statuses(list: string): TaskStatus[] | undefined {
  if (list.trim() === "all") return undefined;
  const named = list.split(",").map((s) => s.trim());
  for (const s of named)
    if (!STATUSES.includes(s as TaskStatus))
      throw new UsageError(`--status: not a task status: ${s} (${STATUSES.join(", ")}, or all)`);
  return named as TaskStatus[];
}

function taskTable(tasks: HumanTask[]): string {
  return render(
    ["task", "assignee", "title", "status", "due", "run", "workflow", "step"],
    tasks.map((t) => [
      t.id,
      t.assignee + (t.claimedBy !== null && t.claimedBy !== t.assignee ? ` (${t.claimedBy})` : ""),
      t.title.length > 60 ? `${t.title.slice(0, 59)}…` : t.title,
      t.overdue ? `${t.status}, overdue` : t.status,
      time(t.dueAt),
      t.runId,
      t.workflow,
      t.step,
    ]),
  );
}
