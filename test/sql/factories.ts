// Test factories: put a run and its step rows directly into a given state, so
// that a test of one gate function starts from the state it needs instead of
// driving the whole gate there (River's testfactory, pgflow's seed.sql). The
// rows obey the tables' state rules (sql/schema/20_tables/); a step that is
// queued or running without a lease gets a graphile job, as the gate would.
import type { Queryable } from "./support.js";

type Status = "pending" | "queued" | "running" | "succeeded" | "failed" | "skipped" | "cancelled";

/** One step run of a factory run: its status, or the status and details. */
export type StepFixture =
  | Status
  | {
      status: Status;
      /** Default: 1 for queued, running, succeeded and failed; 0 otherwise. */
      attempt?: number;
      /** Of a succeeded step. (Default: null) */
      output?: unknown;
      /** Of a failed step, or a step retrying. (Default: {"message": "<step> failed"} when failed) */
      error?: unknown;
      /** The worker holding the step under its lease (queued or running): no job then. */
      lockedBy?: string;
      /** A queued or running step without a lease gets a graphile job. (Default: true) */
      job?: boolean;
      /** The graphile worker that holds a running step's job. (Default: "factory-worker") */
      jobLockedBy?: string;
      /** Its timestamps (created, queued, started, finished). (Default: the run's `at`) */
      at?: string;
    };

/** A run to insert. */
export interface RunFixture {
  workflow: string;
  /** Default: the latest. */
  version?: number;
  input?: unknown;
  priority?: number;
  /** Default: "running" ("queued" when no steps are given). */
  status?: "queued" | "running" | "compensating" | "succeeded" | "failed" | "cancelled";
  /** The run's error (a failed or compensating run). (Default: null) */
  error?: unknown;
  /** Every timestamp the factory writes. (Default: the transaction's now()) */
  at?: string;
  /** Step runs by step name; a workflow step not listed is pending. */
  steps?: Record<string, StepFixture>;
  /**
   * Write rows only for the listed steps, as runs claimed by an older rowflow
   * have them (a step without a row reads as pending). (Default: false, a
   * row for every step, as claim_runs writes them)
   */
  lazy?: boolean;
}

const terminal = new Set<Status>(["succeeded", "failed", "skipped", "cancelled"]);

/** Inserts the run and its step rows (and jobs); returns the run id. */
export async function insertRun(q: Queryable, fixture: RunFixture): Promise<number> {
  const at = fixture.at ?? (await q.query<{ t: string }>("select now()::text as t")).rows[0]!.t;
  const { rows: wf } = await q.query<{ version: number }>(
    "select coalesce($2::int, latest_version) as version from rowflow.workflows where name = $1",
    [fixture.workflow, fixture.version ?? null],
  );
  if (!wf[0]) throw new Error(`insertRun: unknown workflow ${fixture.workflow}`);
  const version = wf[0].version;
  const status = fixture.status ?? (fixture.steps ? "running" : "queued");
  const finished = ["succeeded", "failed", "cancelled"].includes(status);
  const { rows: run } = await q.query<{ id: string }>(
    `insert into rowflow.runs (workflow, version, status, input, priority, error, created_at, updated_at,
                               started_at, finished_at)
     values ($1, $2, $3, $4::jsonb, $5, $6::jsonb, $7, $7, case when $3 <> 'queued' then $7::timestamptz end,
             case when $8 then $7::timestamptz end)
     returning id`,
    [
      fixture.workflow,
      version,
      status,
      JSON.stringify(fixture.input ?? {}),
      fixture.priority ?? 0,
      fixture.error === undefined ? null : JSON.stringify(fixture.error),
      at,
      finished,
    ],
  );
  const runId = Number(run[0]!.id);
  if (status === "queued") return runId;

  const { rows: steps } = await q.query<{ name: string; depends_on: string[]; attempts: number }>(
    "select name, depends_on, attempts from rowflow.workflow_steps where workflow = $1 and version = $2 order by name",
    [fixture.workflow, version],
  );
  const given = fixture.steps ?? {};
  for (const name of Object.keys(given)) {
    if (!steps.some((s) => s.name === name)) {
      throw new Error(`insertRun: workflow ${fixture.workflow} has no step ${name}`);
    }
  }
  const statusOf = (name: string): Status => {
    const f = given[name];
    return f === undefined ? "pending" : typeof f === "string" ? f : f.status;
  };
  for (const step of steps) {
    const raw = given[step.name];
    if (raw === undefined && fixture.lazy) continue;
    const f = typeof raw === "object" ? raw : { status: statusOf(step.name) };
    const s = f.status;
    const stepAt = f.at ?? at;
    const attempt = f.attempt ?? (["queued", "running", "succeeded", "failed"].includes(s) ? 1 : 0);
    const queued = attempt >= 1; // ever queued: it has a queued_at
    const depsRemaining =
      s === "pending" || s === "cancelled"
        ? step.depends_on.filter((d) => !["succeeded", "skipped"].includes(statusOf(d))).length
        : 0;
    const leased = f.lockedBy !== undefined;
    let jobId: string | null = null;
    if ((s === "queued" || s === "running") && !leased && f.job !== false) {
      const { rows: job } = await q.query<{ ids: string[] }>(
        `select rowflow._add_step_jobs(array[row($1::bigint, $2::text, $3::int, null, $4::timestamptz, 0)::rowflow.step_job]) as ids`,
        [runId, step.name, attempt, stepAt],
      );
      jobId = job[0]!.ids[0]!;
      if (s === "running") {
        await q.query(
          `update graphile_worker._private_jobs set locked_at = $2, locked_by = $3, attempts = 1 where id = $1`,
          [jobId, stepAt, f.jobLockedBy ?? "factory-worker"],
        );
      }
    }
    await q.query(
      `insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts, output,
                                      error, created_at, queued_at, started_at, finished_at, job_id, locked_by)
       values ($1, $2, 'step', $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, case when $10 then $9::timestamptz end,
               case when $3 in ('running', 'succeeded', 'failed') then $9::timestamptz end,
               case when $11 then $9::timestamptz end, $12, $13)`,
      [
        runId,
        step.name,
        s,
        depsRemaining,
        attempt,
        step.attempts,
        s === "succeeded" ? JSON.stringify(f.output ?? null) : null,
        f.error !== undefined
          ? JSON.stringify(f.error)
          : s === "failed"
            ? JSON.stringify({ message: `${step.name} failed` })
            : null,
        stepAt,
        queued,
        terminal.has(s),
        jobId,
        f.lockedBy ?? null,
      ],
    );
  }
  return runId;
}
