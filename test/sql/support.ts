// Helpers shared by the SQL engine tests (test/sql/**).
import type pg from "pg";
import { expect } from "vitest";

export type Queryable = Pick<pg.PoolClient, "query">;

/** Asserts that `promise` rejects with SQLSTATE `code` and a message matching `message`. */
export async function expectSqlError(
  promise: Promise<unknown>,
  code: string,
  message: RegExp | string,
): Promise<void> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught, "expected the statement to fail").toBeDefined();
  const err = caught as { code?: string; message?: string };
  expect({ code: err.code, message: err.message }).toMatchObject({
    code,
    message: typeof message === "string" ? message : expect.stringMatching(message),
  });
}

export async function define(q: Queryable, name: string, spec: unknown): Promise<number> {
  const { rows } = await q.query<{ v: number }>(
    "select rowflow.define_workflow(name => $1, spec => $2::jsonb) as v",
    [name, JSON.stringify(spec)],
  );
  return rows[0]!.v;
}

/**
 * Starts a run (rowflow.start_run) and leaves it as a start does: 'queued',
 * the run row only (no step rows, no jobs, no events).
 */
export async function queueRun(
  q: Queryable,
  workflow: string,
  input: unknown = {},
  key: string | null = null,
): Promise<number> {
  const { rows } = await q.query<{ id: string }>(
    "select rowflow.start_run(workflow => $1, input => $2::jsonb, idempotency_key => $3) as id",
    [workflow, JSON.stringify(input), key],
  );
  return Number(rows[0]!.id);
}

/**
 * rowflow.claim_runs(take => 0) over every queued run (claim_runs claims in
 * (priority, id) order, so this is how a test reaches the run it just
 * started): the runs become running with a row per step and jobs for their
 * ready root steps. Answers what claim_runs answers.
 */
export async function claimAll(
  q: Queryable,
  now: string | null = null,
): Promise<{ runs: number; taken: unknown[] }> {
  const { rows } = await q.query<{ r: { runs: number; taken: unknown[] } }>(
    `select rowflow.claim_runs(take => 0, now => $1::timestamptz,
       max_runs => (select count(*)::int from rowflow.runs where status = 'queued')) as r`,
    [now],
  );
  return rows[0]!.r;
}

/**
 * A run as the gate tests want it: started (queueRun) and claimed with take
 * 0 (claimAll), so its ready root steps are queued with graphile jobs and the
 * others pending.
 */
export async function startRun(
  q: Queryable,
  workflow: string,
  input: unknown = {},
  key: string | null = null,
  now: string | null = null,
): Promise<number> {
  const run = await queueRun(q, workflow, input, key);
  await claimAll(q, now);
  const { rows } = await q.query<{ status: string }>(
    "select status from rowflow.runs where id = $1",
    [run],
  );
  expect(rows[0]?.status, `run ${run} after claim_runs`).not.toBe("queued");
  return run;
}

/**
 * Injected time for a test: each next() is one second after the previous,
 * so rows and events written by successive gate calls in one transaction
 * (where now() does not move) get distinct, ordered timestamps.
 */
export function clock(start = "2030-01-01T00:00:00Z"): { next(): string; at(i: number): string } {
  const t0 = Date.parse(start);
  let i = 0;
  return {
    next: () => new Date(t0 + ++i * 1000).toISOString(),
    at: (k: number) => new Date(t0 + k * 1000).toISOString(),
  };
}

export interface GateResult {
  ok: boolean;
  reason?: string;
  released?: string[];
  skipped?: string[];
  runStatus?: string;
  outcome?: string;
  retryAt?: string;
  [key: string]: unknown;
}

export async function begin(
  q: Queryable,
  run: number,
  step: string,
  attempt = 1,
  now: string | null = null,
): Promise<GateResult> {
  const { rows } = await q.query<{ r: GateResult }>(
    "select rowflow.begin_step(run_id => $1, step => $2, attempt => $3, now => $4::timestamptz) as r",
    [run, step, attempt, now],
  );
  return rows[0]!.r;
}

export async function complete(
  q: Queryable,
  run: number,
  step: string,
  attempt = 1,
  output: unknown = null,
  now: string | null = null,
): Promise<GateResult> {
  const { rows } = await q.query<{ r: GateResult }>(
    "select rowflow.complete_step(run_id => $1, step => $2, attempt => $3, output => $4::jsonb, now => $5::timestamptz) as r",
    [run, step, attempt, JSON.stringify(output), now],
  );
  return rows[0]!.r;
}

export async function fail(
  q: Queryable,
  run: number,
  step: string,
  attempt: number,
  opts: { retryable?: boolean; retryAt?: string | null; now?: string | null } = {},
): Promise<GateResult> {
  const { rows } = await q.query<{ r: GateResult }>(
    `select rowflow.fail_step(run_id => $1, step => $2, attempt => $3, error => $4::jsonb,
       retryable => $5, retry_at => $6::timestamptz, now => $7::timestamptz) as r`,
    [
      run,
      step,
      attempt,
      JSON.stringify({ message: `${step} failed` }),
      opts.retryable ?? true,
      opts.retryAt ?? null,
      opts.now ?? null,
    ],
  );
  return rows[0]!.r;
}

/**
 * begin_step + complete_step for the step's current attempt; with a clock,
 * each call at the clock's next tick.
 */
export async function runStep(
  q: Queryable,
  run: number,
  step: string,
  output: unknown = null,
  time?: { next(): string },
): Promise<GateResult> {
  const attempt = (await stepRow(q, run, step)).attempt;
  const b = await begin(q, run, step, attempt, time?.next() ?? null);
  expect(b.ok, `begin_step ${step}: ${JSON.stringify(b)}`).toBe(true);
  return complete(q, run, step, attempt, output, time?.next() ?? null);
}

export interface StepRow {
  step: string;
  kind: string;
  status: string;
  attempt: number;
  deps_remaining: number;
  seq: number | null;
  output: unknown;
}

export async function stepRow(q: Queryable, run: number, step: string): Promise<StepRow> {
  const { rows } = await q.query<StepRow>(
    "select step, kind, status, attempt, deps_remaining, seq, output from rowflow.run_steps where run_id = $1 and step = $2",
    [run, step],
  );
  expect(rows, `step ${step} of run ${run}`).toHaveLength(1);
  return rows[0]!;
}

/**
 * {step: status} of every step run of a run, as rowflow.run_steps shows them
 * (a step without a row is pending: every step of a queued run, and steps of
 * runs claimed by an older rowflow that were not ready yet).
 */
export async function statuses(q: Queryable, run: number): Promise<Record<string, string>> {
  const { rows } = await q.query<{ step: string; status: string }>(
    "select step, status from rowflow.run_steps where run_id = $1 order by step",
    [run],
  );
  return Object.fromEntries(rows.map((r) => [r.step, r.status]));
}

export interface RunRow {
  status: string;
  /** runs.started_at is set (when a worker claimed the run). */
  started: boolean;
  /** runs.finished_at is set. */
  finished: boolean;
  error: Record<string, unknown> | null;
}

export async function runRow(q: Queryable, run: number): Promise<RunRow> {
  const { rows } = await q.query<RunRow>(
    `select status, started_at is not null as started, finished_at is not null as finished, error
     from rowflow.runs where id = $1`,
    [run],
  );
  expect(rows, `run ${run}`).toHaveLength(1);
  return rows[0]!;
}

/**
 * The graphile-worker jobs of a run as `rowflow:<run>:<step>:<attempt>`,
 * sorted. (rowflow's jobs have no graphile job key; the identity is the payload.)
 */
export async function jobKeys(q: Queryable, run: number): Promise<string[]> {
  const { rows } = await q.query<{ key: string }>(
    `select 'rowflow:' || (payload->>'run') || ':' || (payload->>'step') || ':' || (payload->>'attempt') as key
     from graphile_worker._private_jobs where (payload->>'run')::bigint = $1 order by 1`,
    [run],
  );
  return rows.map((r) => r.key);
}

/** Rows of rowflow.step_runs of a run (every step has one once the run is claimed). */
export async function storedSteps(q: Queryable, run: number): Promise<string[]> {
  const { rows } = await q.query<{ step: string }>(
    "select step from rowflow.step_runs where run_id = $1 order by step",
    [run],
  );
  return rows.map((r) => r.step);
}

/**
 * The events stored in rowflow.events, as "step type" in id order. Only
 * what the rows cannot tell is stored: skips, retries, failures,
 * cancellations, compensation, re-deliveries.
 */
export async function eventTypes(q: Queryable, run: number): Promise<string[]> {
  const { rows } = await q.query<{ e: string }>(
    "select coalesce(step || ' ', '') || type as e from rowflow.events where run_id = $1 order by id",
    [run],
  );
  return rows.map((r) => r.e);
}

/**
 * A run's whole history from rowflow.run_timeline (stored events and the
 * ones the rows imply), as "step type" in the view's documented order (at,
 * ord, step; then the stored id).
 */
export async function timeline(q: Queryable, run: number): Promise<string[]> {
  const { rows } = await q.query<{ e: string }>(
    `select coalesce(step || ' ', '') || type as e from rowflow.run_timeline where run_id = $1
     order by at, ord, step, id`,
    [run],
  );
  return rows.map((r) => r.e);
}
