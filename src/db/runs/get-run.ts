import type { Kysely, NotNull } from "kysely";

import type { Database } from "../types.js";

/** Run statuses (docs/sql-api.md, rowflow.runs). */
export type RunStatus =
  "queued" | "running" | "compensating" | "succeeded" | "failed" | "cancelled";
/** Step run statuses (docs/sql-api.md, rowflow.step_runs). */
export type StepStatus =
  "pending" | "queued" | "running" | "succeeded" | "failed" | "skipped" | "cancelled";

/** One step run of a run. */
export interface StepRunInfo {
  step: string;
  kind: "step" | "compensation" | "on_failure";
  status: StepStatus;
  /**
   * A map step's elements, counted (each element is a rowflow.step_runs row of
   * kind "element", not listed here); absent for other steps.
   */
  elements?: { total: number; open: number; failed: number };
  attempt: number;
  maxAttempts: number;
  output: unknown;
  error: unknown;
  createdAt: Date;
  /** When the step run was first queued (ready to run); null while pending. */
  queuedAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** A run with its step runs. */
export interface RunInfo {
  /** Run id (bigint as a decimal string). */
  id: string;
  workflow: string;
  version: number;
  status: RunStatus;
  input: Record<string, unknown>;
  idempotencyKey: string | null;
  priority: number;
  error: unknown;
  createdAt: Date;
  /** When a worker claimed the run (queued → running); null while queued. */
  startedAt: Date | null;
  updatedAt: Date;
  finishedAt: Date | null;
  /** Step runs: user steps in creation order, then the compensation chain in its order. */
  steps: StepRunInfo[];
}

/**
 * Reads a run and its step runs; undefined when there is no such run or the
 * role may not see it (rowflow.visible_runs: an app sees the runs its
 * sessions started; viewers, operators and the owner see all).
 */
export async function getRun(
  db: Kysely<Database>,
  args: { runId: string },
): Promise<RunInfo | undefined> {
  const run = await db
    .selectFrom("rowflow.visible_runs")
    .selectAll()
    .where("id", "=", args.runId)
    // A view's columns are nullable to kysely-codegen; these never are.
    .$narrowType<{
      id: NotNull;
      workflow: NotNull;
      version: NotNull;
      status: NotNull;
      input: NotNull;
      priority: NotNull;
      created_at: NotNull;
      updated_at: NotNull;
    }>()
    .executeTakeFirst();
  if (!run) return undefined;
  // rowflow.visible_run_steps (rowflow.run_steps for the runs this role may
  // see): steps that have no row yet show as pending.
  const steps = await db
    .selectFrom("rowflow.visible_run_steps")
    .selectAll()
    .where("run_id", "=", args.runId)
    .orderBy("seq", (ob) => ob.asc().nullsFirst())
    .orderBy("created_at")
    .orderBy("step")
    // A view's columns are nullable to kysely-codegen; these never are.
    .$narrowType<{
      step: NotNull;
      kind: NotNull;
      status: NotNull;
      attempt: NotNull;
      max_attempts: NotNull;
      created_at: NotNull;
    }>()
    .execute();
  return {
    id: String(run.id),
    workflow: run.workflow,
    version: run.version,
    status: run.status as RunStatus,
    input: run.input as Record<string, unknown>,
    idempotencyKey: run.idempotency_key,
    priority: run.priority,
    error: run.error,
    createdAt: run.created_at,
    startedAt: run.started_at,
    updatedAt: run.updated_at,
    finishedAt: run.finished_at,
    steps: steps.map((s) => ({
      step: s.step,
      kind: s.kind as StepRunInfo["kind"],
      status: s.status as StepStatus,
      attempt: s.attempt,
      maxAttempts: s.max_attempts,
      output: s.output,
      error: s.error,
      createdAt: s.created_at,
      queuedAt: s.queued_at,
      startedAt: s.started_at,
      finishedAt: s.finished_at,
      ...(s.elements === null || s.elements === undefined
        ? {}
        : { elements: s.elements as { total: number; open: number; failed: number } }),
    })),
  };
}

/** Reads only a run's status (cheap poll for `waitForRun`); undefined when there is no such run. */
export async function getRunStatus(
  db: Kysely<Database>,
  args: { runId: string },
): Promise<RunStatus | undefined> {
  const row = await db
    .selectFrom("rowflow.visible_runs")
    .select("status")
    .where("id", "=", args.runId)
    .executeTakeFirst();
  return row?.status as RunStatus | undefined;
}
