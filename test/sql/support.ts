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

export async function startRun(
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
): Promise<GateResult> {
  const { rows } = await q.query<{ r: GateResult }>(
    "select rowflow.begin_step(run_id => $1, step => $2, attempt => $3) as r",
    [run, step, attempt],
  );
  return rows[0]!.r;
}

export async function complete(
  q: Queryable,
  run: number,
  step: string,
  attempt = 1,
  output: unknown = null,
): Promise<GateResult> {
  const { rows } = await q.query<{ r: GateResult }>(
    "select rowflow.complete_step(run_id => $1, step => $2, attempt => $3, output => $4::jsonb) as r",
    [run, step, attempt, JSON.stringify(output)],
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

/** begin_step + complete_step for the step's current attempt. */
export async function runStep(
  q: Queryable,
  run: number,
  step: string,
  output: unknown = null,
): Promise<GateResult> {
  const attempt = (await stepRow(q, run, step)).attempt;
  const b = await begin(q, run, step, attempt);
  expect(b.ok, `begin_step ${step}: ${JSON.stringify(b)}`).toBe(true);
  return complete(q, run, step, attempt, output);
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
 * (000006: a step without a row yet is pending).
 */
export async function statuses(q: Queryable, run: number): Promise<Record<string, string>> {
  const { rows } = await q.query<{ step: string; status: string }>(
    "select step, status from rowflow.run_steps where run_id = $1 order by step",
    [run],
  );
  return Object.fromEntries(rows.map((r) => [r.step, r.status]));
}

export async function runRow(
  q: Queryable,
  run: number,
): Promise<{ status: string; steps_left: number; error: Record<string, unknown> | null }> {
  const { rows } = await q.query<{
    status: string;
    steps_left: number;
    error: Record<string, unknown> | null;
  }>("select status, steps_left, error from rowflow.runs where id = $1", [run]);
  return rows[0]!;
}

/**
 * The graphile-worker jobs of a run as `rowflow:<run>:<step>:<attempt>`,
 * sorted. (000006 dropped graphile job keys; the identity is the payload.)
 */
export async function jobKeys(q: Queryable, run: number): Promise<string[]> {
  const { rows } = await q.query<{ key: string }>(
    `select 'rowflow:' || (payload->>'run') || ':' || (payload->>'step') || ':' || (payload->>'attempt') as key
     from graphile_worker._private_jobs where (payload->>'run')::bigint = $1 order by 1`,
    [run],
  );
  return rows.map((r) => r.key);
}

/** Rows of rowflow.step_runs of a run (000006: only steps that became ready have one). */
export async function storedSteps(q: Queryable, run: number): Promise<string[]> {
  const { rows } = await q.query<{ step: string }>(
    "select step from rowflow.step_runs where run_id = $1 order by step",
    [run],
  );
  return rows.map((r) => r.step);
}

export async function eventTypes(q: Queryable, run: number): Promise<string[]> {
  const { rows } = await q.query<{ e: string }>(
    "select coalesce(step || ' ', '') || type as e from rowflow.events where run_id = $1 order by id",
    [run],
  );
  return rows.map((r) => r.e);
}
