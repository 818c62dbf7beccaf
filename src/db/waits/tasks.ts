// Typed calls of the human-task functions (sql/schema/78_waits/,
// docs/sql-api.md#human-tasks) and reads of rowflow.tasks / rowflow.inbox.
// Refusals come back as the SQL raised them (RF063 unknown task, RF064 not
// open, RF065 not theirs, RF066 an answer that does not match the form).
import { onlyRow, type Queryable } from "../queryable.js";

export type TaskStatus = "open" | "claimed" | "done" | "expired" | "cancelled";

/** One row of `rowflow.tasks`. */
export type HumanTask = {
  id: string;
  runId: string;
  workflow: string;
  step: string;
  title: string;
  description: string | null;
  assignee: string;
  status: TaskStatus;
  /** Open or claimed past its due time. */
  overdue: boolean;
  dueAt: Date | null;
  escalateTo: string | null;
  escalatedAt: Date | null;
  /** JSON Schema of the answer (docs/forms.md). */
  form: unknown;
  createdAt: Date;
  claimedBy: string | null;
  claimedAt: Date | null;
  completedBy: string | null;
  completedAt: Date | null;
  answer: unknown;
  runStatus: string;
};

/** Which tasks to list: by assignee (with their groups: an inbox), status, workflow, run. */
export interface TaskFilter {
  /** One person's open and claimed tasks: theirs, their groups', claimed by them (rowflow.inbox). */
  assignee?: string | undefined;
  groups?: readonly string[] | undefined;
  status?: readonly TaskStatus[] | undefined;
  workflow?: string | undefined;
  runId?: string | undefined;
  /** Only tasks past their due time. */
  overdue?: boolean | undefined;
  limit?: number | undefined;
}

const COLUMNS = `id::text as "id", run_id::text as "runId", workflow, step, title, description, assignee, status,
  overdue, due_at as "dueAt", escalate_to as "escalateTo", escalated_at as "escalatedAt", form,
  created_at as "createdAt", claimed_by as "claimedBy", claimed_at as "claimedAt",
  completed_by as "completedBy", completed_at as "completedAt", answer, run_status as "runStatus"`;

export async function listTasks(db: Queryable, filter: TaskFilter = {}): Promise<HumanTask[]> {
  const from =
    filter.assignee === undefined ? "rowflow.tasks as t" : "rowflow.inbox($1, $2::text[]) as t";
  const { rows } = await db.query<HumanTask>(
    `select ${COLUMNS} from ${from}
     where ($3::text[] is null or t.status = any ($3::text[]))
       and ($4::text is null or t.workflow = $4)
       and ($5::bigint is null or t.run_id = $5)
       and (not $6::boolean or t.overdue)
     order by t.due_at nulls last, t.id
     limit $7`,
    [
      filter.assignee ?? null,
      filter.groups ?? [],
      filter.status ?? null,
      filter.workflow ?? null,
      filter.runId ?? null,
      filter.overdue ?? false,
      filter.limit ?? 100,
    ],
  );
  return rows;
}

/** What complete_task answers: the step succeeded with the answer. */
export interface CompleteTaskResult {
  ok: true;
  task: number;
  run: number;
  step: string;
  by: string;
  released: string[];
  runStatus: string;
}

export interface TaskActor {
  /** Who acts (the application's identity of the person). */
  by: string;
  /** The groups the application knows them to be in. (Default: none) */
  groups?: readonly string[] | undefined;
}

export async function completeTask(
  db: Queryable,
  taskId: string,
  actor: TaskActor & { answer: unknown; override?: boolean | undefined },
): Promise<CompleteTaskResult> {
  const { rows } = await db.query<{ r: CompleteTaskResult }>(
    "select rowflow.complete_task($1::bigint, $2, $3::jsonb, $4::text[], $5) as r",
    [
      taskId,
      actor.by,
      JSON.stringify(actor.answer ?? null),
      actor.groups ?? [],
      actor.override ?? false,
    ],
  );
  return onlyRow(rows, "complete_task").r;
}

export async function claimTask(db: Queryable, taskId: string, actor: TaskActor): Promise<void> {
  await db.query("select rowflow.claim_task($1::bigint, $2, $3::text[])", [
    taskId,
    actor.by,
    actor.groups ?? [],
  ]);
}

export async function reassignTask(
  db: Queryable,
  taskId: string,
  to: string,
  actor: TaskActor & { reason?: string | undefined },
): Promise<void> {
  await db.query("select rowflow.reassign_task($1::bigint, $2, $3, $4, $5::text[])", [
    taskId,
    to,
    actor.by,
    actor.reason ?? null,
    actor.groups ?? [],
  ]);
}
