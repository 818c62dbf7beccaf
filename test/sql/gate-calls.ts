// Calls of the gate functions with named arguments, and views of their rows,
// shared by the SQL tests of claim_runs, complete_steps and the leases.
import { expect } from "vitest";

import type { GateResult, Queryable } from "./support.js";

export interface Call {
  run: number;
  step: string;
  attempt?: number;
  output?: unknown;
  take?: number;
  next?: { run: number; step: string; attempt?: number };
}

/** rowflow.complete_steps with one entry per call; answers in call order. */
export async function completeSteps(
  q: Queryable,
  calls: Call[],
  opts: { worker?: string | null; now?: string | null; claim?: boolean; reserve?: number } = {},
): Promise<GateResult[]> {
  const { rows } = await q.query<{ r: GateResult }>(
    `select r from rowflow.complete_steps(
       run_ids => $1::bigint[], steps => $2::text[], attempts => $3::int[], outputs => $4::jsonb[],
       takes => $5::int[], worker_id => $6, now => $7::timestamptz, claim => $8, reserve => $9,
       next_run_ids => $10::bigint[], next_steps => $11::text[], next_attempts => $12::int[]) as r`,
    [
      calls.map((c) => c.run),
      calls.map((c) => c.step),
      calls.map((c) => c.attempt ?? 1),
      calls.map((c) => JSON.stringify(c.output ?? null)),
      calls.map((c) => c.take ?? 0),
      opts.worker ?? null,
      opts.now ?? null,
      opts.claim ?? false,
      opts.reserve ?? 0,
      calls.map((c) => c.next?.run ?? null),
      calls.map((c) => c.next?.step ?? null),
      calls.map((c) => (c.next ? (c.next.attempt ?? 1) : null)),
    ],
  );
  return rows.map((r) => r.r);
}

/** rowflow.claim_runs with named arguments. */
export async function claimRuns(
  q: Queryable,
  args: { worker?: string | null; take?: number; maxRuns?: number | null; now?: string | null },
): Promise<{ runs: number; taken: GateResult[] }> {
  const { rows } = await q.query<{ r: { runs: number; taken: GateResult[] } }>(
    "select rowflow.claim_runs(worker_id => $1, take => $2, max_runs => $3, now => $4::timestamptz) as r",
    [args.worker ?? null, args.take ?? 0, args.maxRuns ?? null, args.now ?? null],
  );
  return rows[0]!.r;
}

export async function startPriority(
  q: Queryable,
  workflow: string,
  priority: number,
): Promise<number> {
  const { rows } = await q.query<{ id: string }>(
    "select rowflow.start_run(workflow => $1, priority => $2) as id",
    [workflow, priority],
  );
  return Number(rows[0]!.id);
}

/** "status locked_by job|no-job #attempt" of each step row of a run, by step. */
export async function stepLeases(q: Queryable, run: number): Promise<Record<string, string>> {
  const { rows: r } = await q.query<{ step: string; s: string }>(
    `select step, status || ' ' || coalesce(locked_by, '-') || ' ' || (case when job_id is null then 'no-job' else 'job' end)
              || ' #' || attempt as s
     from rowflow.step_runs where run_id = $1 order by step`,
    [run],
  );
  return Object.fromEntries(r.map((x) => [x.step, x.s]));
}

export async function releaseLeases(
  q: Queryable,
  worker: string,
  keep: string[],
  olderThan: string | null = null,
): Promise<number> {
  const { rows: r } = await q.query<{ n: number }>(
    "select rowflow.release_leases(worker_id => $1, keep => $2::text[], older_than => coalesce($3::interval, '0')) as n",
    [worker, keep, olderThan],
  );
  return r[0]!.n;
}

/** The handler context complete_steps / claim_runs answer for a step handed to the worker. */
export function context(
  run: number,
  step: string,
  workflow: string,
  deps: Record<string, unknown>,
  priority = 0,
) {
  return {
    ok: true,
    runId: String(run),
    step,
    task: "t",
    workflow,
    version: 1,
    input: {},
    deps,
    attempt: 1,
    maxAttempts: 3,
    timeoutMs: null,
    idempotencyKey: `rowflow:${run}:${step}`,
    kind: "step",
    runError: null,
    priority,
    lease: leaseToken,
    ...traceKeys,
  };
}

/** The trace keys of a handler context of a run started without a trace context. */
export const traceKeys = {
  traceparent: null,
  tracestate: null,
  runCreatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
};

/** A lease token as the gate hands it out (its value: test/sql/complete-steps/fencing.test.ts). */
export const leaseToken = expect.stringMatching(/^[0-9a-f]{32}$/);

/** The lease-related columns of a run's step rows, by step. */
export async function leaseColumns(q: Queryable, run: number) {
  const { rows } = await q.query<{
    step: string;
    status: string;
    locked_by: string | null;
    has_job: boolean;
    started: boolean;
  }>(
    `select step, status, locked_by, job_id is not null as has_job, started_at is not null as started
     from rowflow.step_runs where run_id = $1 order by step`,
    [run],
  );
  return rows;
}
