// Typed calls of the operators' SQL functions (sql/schema/85_operate/,
// docs/sql-api.md#operations) for the client. Each is one statement; the
// answers are the functions' JSON, typed. Errors come back as the SQL
// raised them (RF023, RF040–RF043, RF020, 42501), turned into
// RowflowSqlError by the client's guard.
import { onlyRow, type Queryable } from "../queryable.js";

export type RetryMode = "failed" | "failed_and_downstream";

export interface RetryResult {
  run: number;
  /** False when the run was already queued or running: nothing changed. */
  retried: boolean;
  status: string;
  mode?: RetryMode;
  from?: string;
  /** The steps that start over. */
  steps?: string[];
  /** The steps queued at once. */
  queued?: string[];
  /** The failure's compensation chain, link → status, now removed. */
  chain?: Record<string, string>;
  /** Set when compensations had run: their effects were undone. */
  warning?: string;
}

export interface RerunResult {
  /** The new run's id. */
  run: number;
  rerunOf: number;
  step: string;
  copied: string[];
  steps: string[];
  queued: string[];
  status: string;
}

export interface SkipResult {
  run: number;
  step: string;
  /** False when the step had already succeeded or been skipped. */
  skipped: boolean;
  status: "succeeded" | "skipped";
  from?: string;
  released?: string[];
  runStatus: string;
}

export interface PauseResult {
  workflow: string;
  paused: boolean;
  changed: boolean;
  queuedRuns?: number;
}

// A type, not an interface: pg's row type needs an index signature.
export type ExplainedStep = {
  /** Null for the run itself (queued or finished). */
  step: string | null;
  status: string;
  code: string;
  reason: string;
  detail: Record<string, unknown>;
};

export interface RunFilter {
  /** Every workflow when omitted. */
  workflow?: string | undefined;
  statuses?: string[] | undefined;
  since?: Date | undefined;
  before?: Date | undefined;
  reason?: string | undefined;
  /** At most this many per call (default 1,000). */
  maxRuns?: number | undefined;
}

async function jsonCall<T>(
  db: Queryable,
  sql: string,
  values: unknown[],
  name: string,
): Promise<T> {
  const { rows } = await db.query<{ r: T }>(`select ${sql} as r`, values);
  return onlyRow(rows, name).r;
}

export const retryRun = (db: Queryable, runId: string, mode: RetryMode, reason: string | null) =>
  jsonCall<RetryResult>(db, "rowflow.retry_run($1, $2, $3)", [runId, mode, reason], "retry_run");

export const rerunFrom = (db: Queryable, runId: string, step: string, reason: string | null) =>
  jsonCall<RerunResult>(db, "rowflow.rerun_from($1, $2, $3)", [runId, step, reason], "rerun_from");

export const skipStep = (
  db: Queryable,
  args: {
    runId: string;
    step: string;
    output: Record<string, unknown> | null;
    reason: string | null;
  },
) =>
  jsonCall<SkipResult>(
    db,
    "rowflow.skip_step($1, $2, $3::jsonb, $4)",
    [args.runId, args.step, args.output === null ? null : JSON.stringify(args.output), args.reason],
    "skip_step",
  );

export const setPaused = (
  db: Queryable,
  workflow: string,
  paused: boolean,
  reason: string | null,
) =>
  jsonCall<PauseResult>(
    db,
    `rowflow.${paused ? "pause_workflow" : "resume_workflow"}($1, $2)`,
    [workflow, reason],
    paused ? "pause_workflow" : "resume_workflow",
  );

export interface RetentionSetting {
  workflow: string;
  /** Postgres interval text, or null: kept forever. */
  retention: string | null;
  changed: boolean;
}

export const setRetention = (
  db: Queryable,
  workflow: string,
  retention: string | null,
  reason: string | null,
) =>
  jsonCall<RetentionSetting>(
    db,
    "rowflow.set_retention($1, $2::interval, $3)",
    [workflow, retention, reason],
    "set_retention",
  );

export async function explainRun(db: Queryable, runId: string): Promise<ExplainedStep[]> {
  const { rows } = await db.query<ExplainedStep>(
    "select step, status, code, reason, detail from rowflow.explain_run($1)",
    [runId],
  );
  return rows;
}

export interface PurgeArgs {
  /** A Postgres interval ("30 days"). */
  olderThan: string;
  statuses: string[];
  workflow: string | null;
  batch: number;
  reason: string | null;
}

/**
 * Calls `rowflow.purge_runs` until it deletes nothing, one transaction per
 * batch (autocommit), telling `onBatch` the running total; answers it.
 */
export async function purgeRuns(
  db: Queryable,
  args: PurgeArgs,
  onBatch?: (deleted: number) => void,
): Promise<number> {
  let deleted = 0;
  for (;;) {
    const { rows } = await db.query<{ n: number }>(
      "select rowflow.purge_runs($1::interval, $2::text[], $3, $4, $5) as n",
      [args.olderThan, args.statuses, args.workflow, args.batch, args.reason],
    );
    const n = onlyRow(rows, "purge_runs").n;
    deleted += n;
    onBatch?.(deleted);
    if (n === 0) return deleted;
  }
}

export interface RetryRunsResult {
  matched: number;
  retried: number;
  unchanged: number;
}

export interface CancelRunsResult {
  matched: number;
  cancelled: number;
  unchanged: number;
}

const filterArgs = (f: RunFilter) => [
  f.workflow ?? null,
  f.statuses ?? null,
  f.since ?? null,
  f.before ?? null,
];

export const retryRuns = (db: Queryable, filter: RunFilter, mode: RetryMode) =>
  jsonCall<RetryRunsResult>(
    db,
    "rowflow.retry_runs($1, coalesce($2::text[], '{failed}'), $3, $4, $5, $6, coalesce($7, 1000))",
    [...filterArgs(filter), mode, filter.reason ?? null, filter.maxRuns ?? null],
    "retry_runs",
  );

export const cancelRuns = (db: Queryable, filter: RunFilter, compensate = false) =>
  jsonCall<CancelRunsResult>(
    db,
    "rowflow.cancel_runs($1, coalesce($2::text[], '{queued,running}'), $3, $4, $5, coalesce($6, 1000), null, $7)",
    [...filterArgs(filter), filter.reason ?? null, filter.maxRuns ?? null, compensate],
    "cancel_runs",
  );
