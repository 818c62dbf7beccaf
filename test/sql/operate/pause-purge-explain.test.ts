// pause_workflow / resume_workflow, purge_runs and explain_run
// (sql/schema/85_operate/): accepted and refused inputs, what they change.
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { useLoginRoles } from "../../helpers/roles.js";
import {
  begin,
  claimAll,
  define,
  expectSqlError,
  fail,
  type Queryable,
  queueRun,
  runStep,
  startRun,
  stepRow,
} from "../support.js";

const db = useTestDatabase();

async function call(q: Queryable, sql: string, args: unknown[] = []) {
  const { rows } = await q.query<{ r: Record<string, unknown> }>(`select ${sql} as r`, args);
  return rows[0]!.r;
}

interface Explained {
  step: string | null;
  status: string;
  code: string;
  reason: string;
  detail: Record<string, unknown>;
}

async function explain(q: Queryable, run: number, now: string | null = null): Promise<Explained[]> {
  const { rows } = await q.query<Explained>(
    "select step, status, code, reason, detail from rowflow.explain_run(run_id => $1, now => $2::timestamptz)",
    [run, now],
  );
  return rows;
}

describe("pause_workflow / resume_workflow", () => {
  it("a paused workflow's new runs are created and wait; resume lets the claim take them", async () => {
    await db.rollback(async (c) => {
      await define(c, "one", { steps: [{ name: "a", task: "t" }] });
      expect(await call(c, "rowflow.pause_workflow('one', reason => 'deploy')")).toEqual({
        workflow: "one",
        paused: true,
        changed: true,
        queuedRuns: 0,
      });
      expect(await call(c, "rowflow.pause_workflow('one')")).toEqual({
        workflow: "one",
        paused: true,
        changed: false,
      });
      const run = await queueRun(c, "one");
      expect((await claimAll(c)).runs).toBe(0);
      expect(await explain(c, run)).toEqual([
        expect.objectContaining({ step: null, status: "queued", code: "run_paused" }),
      ]);
      expect(await call(c, "rowflow.resume_workflow('one')")).toMatchObject({
        paused: false,
        changed: true,
        queuedRuns: 1,
      });
      expect((await claimAll(c)).runs).toBe(1);
      const { rows } = await c.query(
        "select action, workflow, reason, data from rowflow.audit where action not in ('define_workflow', 'attach', 'detach') order by id",
      );
      expect(rows).toEqual([
        { action: "pause_workflow", workflow: "one", reason: "deploy", data: { queuedRuns: 0 } },
        { action: "resume_workflow", workflow: "one", reason: null, data: { queuedRuns: 1 } },
      ]);
    });
  });

  it("the audit records the session's application_name and SET ROLE", async () => {
    await db.rollback(async (c) => {
      await define(c, "one", { steps: [{ name: "a", task: "t" }] });
      await c.query("set local application_name = 'ops-console'");
      await c.query("set local role rowflow_operator");
      await c.query("select rowflow.pause_workflow('one')");
      await c.query("reset role");
      const { rows } = await c.query(
        "select application_name, set_role::text, session_user_name = session_user as me from rowflow.audit where action not in ('define_workflow', 'attach', 'detach')",
      );
      expect(rows).toEqual([
        { application_name: "ops-console", set_role: "rowflow_operator", me: true },
      ]);
    });
  });

  it("an unknown workflow is RF020", async () => {
    await db.rollback(async (c) => {
      await expectSqlError(
        c.query("select rowflow.pause_workflow('nope')"),
        "RF020",
        "unknown workflow nope",
      );
    });
  });
});

describe("purge_runs", () => {
  it("deletes finished runs older than the interval in batches, never an unfinished one", async () => {
    await db.rollback(async (c) => {
      await define(c, "one", { steps: [{ name: "a", task: "t" }] });
      const done: number[] = [];
      for (let i = 0; i < 5; i++) {
        const run = await startRun(c, "one");
        await runStep(c, run, "a", { i });
        done.push(run);
      }
      const running = await startRun(c, "one");
      const queued = await queueRun(c, "one");
      // Backdate the finished runs by a day.
      await c.query(
        "update rowflow.runs set finished_at = finished_at - interval '1 day' where id = any ($1::bigint[])",
        [done],
      );
      const purge = (batch: number) =>
        c.query<{ n: number }>(
          "select rowflow.purge_runs(older_than => interval '1 hour', batch => $1) as n",
          [batch],
        );
      expect((await purge(2)).rows[0]!.n).toBe(2);
      expect((await purge(2)).rows[0]!.n).toBe(2);
      expect((await purge(2)).rows[0]!.n).toBe(1);
      expect((await purge(2)).rows[0]!.n).toBe(0);
      const { rows } = await c.query<{ id: string }>("select id from rowflow.runs order by id");
      expect(rows.map((r) => Number(r.id))).toEqual([running, queued]);
      const { rows: left } = await c.query(
        "select count(*)::int as n from rowflow.step_runs where run_id = any ($1::bigint[])",
        [done],
      );
      expect(left[0]!.n).toBe(0);
      const { rows: audit } = await c.query<{ d: number }>(
        "select (data ->> 'deleted')::int as d from rowflow.audit where action = 'purge_runs' order by id",
      );
      expect(audit.map((a) => a.d)).toEqual([2, 2, 1]);
    });
  });

  it("refuses a negative interval, an unfinished status, a bad batch and an unknown workflow", async () => {
    await db.rollback(async (c) => {
      await c.query("savepoint s");
      for (const [sql, code, message] of [
        [
          "rowflow.purge_runs(interval '-1 day')",
          "RF043",
          /older_than must be an interval of 0 or more/,
        ],
        [
          "rowflow.purge_runs(interval '1 day', statuses => '{running}')",
          "RF043",
          /statuses must be/,
        ],
        ["rowflow.purge_runs(interval '1 day', batch => 0)", "RF043", /batch must be between/],
        [
          "rowflow.purge_runs(interval '1 day', workflow => 'nope')",
          "RF020",
          /unknown workflow nope/,
        ],
      ] as const) {
        await expectSqlError(c.query(`select ${sql}`), code, message);
        await c.query("rollback to savepoint s");
      }
    });
  });
});

describe("explain_run", () => {
  const t0 = "2030-01-01T00:00:00Z";
  const later = "2030-01-01T00:10:00Z";

  it("says handed_to_worker for a dependent a worker reserved at its completion", async () => {
    await db.rollback(async (c) => {
      await define(c, "handed", {
        steps: [
          { name: "a", task: "t" },
          { name: "b", task: "t", dependsOn: ["a"] },
        ],
      });
      const run = await startRun(c, "handed", {}, null, t0);
      await c.query(
        "select rowflow.register_worker(id => 'w-handed', hostname => 'h', pid => 1, concurrency => 2, tasks => '{t}')",
      );
      expect(await begin(c, run, "a", 1, t0)).toMatchObject({ ok: true });
      const { rows } = await c.query<{ r: { ok: boolean; reserved: string[] } }>(
        `select r from rowflow.complete_steps(run_ids => array[$1::bigint], steps => '{a}', attempts => '{1}',
           outputs => array['{}'::jsonb], worker_id => 'w-handed', reserve => 1, now => $2::timestamptz) as r`,
        [run, t0],
      );
      expect(rows[0]!.r).toMatchObject({ ok: true });
      expect(JSON.stringify(rows[0]!.r.reserved)).toContain("b");
      expect(await explain(c, run, t0)).toEqual([
        expect.objectContaining({ step: "b", status: "queued", code: "handed_to_worker" }),
      ]);
    });
  });

  it("names the blocking reason of each unfinished step", async () => {
    await db.rollback(async (c) => {
      await define(c, "why", {
        steps: [
          { name: "a", task: "t" },
          { name: "slow", task: "t", delay: "1 hour" },
          { name: "flaky", task: "t", attempts: 3, backoff: { type: "fixed", base: "5 minutes" } },
          { name: "b", task: "t", dependsOn: ["a", "flaky"] },
        ],
      });
      const run = await startRun(c, "why", {}, null, t0);
      expect(await begin(c, run, "flaky", 1, t0)).toMatchObject({ ok: true });
      expect(await fail(c, run, "flaky", 1, { now: t0 })).toMatchObject({ outcome: "retrying" });
      expect(await begin(c, run, "a", 1, t0)).toMatchObject({ ok: true });
      const rows = await explain(c, run, t0);
      const byStep = Object.fromEntries(rows.map((r) => [r.step, r]));
      expect(byStep.a).toMatchObject({ status: "running", code: "running" });
      expect(byStep.b).toMatchObject({
        status: "pending",
        code: "waiting_on_dependencies",
        reason: "waiting on a, flaky",
      });
      expect(byStep.slow).toMatchObject({ status: "queued", code: "delayed" });
      expect(byStep.flaky).toMatchObject({
        code: "backing_off",
        reason: expect.stringMatching(/^attempt 1 of 3 failed: flaky failed; attempt 2 starts at /),
      });
      // Ten minutes later both are due; no worker has registered task t.
      const due = Object.fromEntries((await explain(c, run, later)).map((r) => [r.step, r]));
      expect(due.slow).toMatchObject({ code: "delayed" });
      expect(due.flaky).toMatchObject({
        code: "no_worker_for_task",
        reason: "no live worker has registered task t",
      });
      // A live worker with the task: the step is ready.
      await c.query(
        `insert into rowflow.workers (id, hostname, pid, concurrency, tasks, started_at, heartbeat_at)
         values ('w1', 'h', 1, 4, '{t}', $1, $1)`,
        [later],
      );
      expect((await explain(c, run, later)).find((r) => r.step === "flaky")).toMatchObject({
        code: "ready",
        reason: "due, waiting for a free slot of 1 live worker(s) with task t",
      });
      await c.query("savepoint s");
      await expectSqlError(explain(c, 999_999), "RF023", "unknown run 999999");
      await c.query("rollback to savepoint s");
    });
  });

  it("names the step holding a named queue, and a finished run in one row", async () => {
    await db.rollback(async (c) => {
      await define(c, "q", { steps: [{ name: "a", task: "t", queue: "serial" }] });
      const first = await startRun(c, "q");
      const second = await startRun(c, "q");
      // A worker holds the queue with the first run's job.
      await c.query(
        `update graphile_worker._private_jobs set locked_at = now(), locked_by = 'w1'
         where (payload ->> 'run')::bigint = $1`,
        [first],
      );
      await c.query(
        `update graphile_worker._private_job_queues set locked_at = now(), locked_by = 'w1' where queue_name like '%serial%'`,
      );
      expect((await explain(c, second)).find((r) => r.step === "a")).toMatchObject({
        code: "queued_behind",
        reason: expect.stringMatching(new RegExp(`job\\(s\\) ahead, held by run ${first} step a$`)),
      });
      await c.query("select rowflow.cancel_run($1)", [first]);
      expect(await explain(c, first)).toEqual([
        expect.objectContaining({ step: null, status: "cancelled", code: "run_finished" }),
      ]);
      expect(await stepRow(c, second, "a")).toMatchObject({ status: "queued" });
    });
  });
});

describe("as logins of rowflow's roles", () => {
  const loginRole = useLoginRoles(db);

  it("an operator retries, skips and pauses; an app may not; the audit names the login", async () => {
    const operator = await loginRole("op", { memberOf: ["rowflow_operator"] });
    const app = await loginRole("app", { memberOf: ["rowflow_app"] });
    await define(db.pool, "ops", {
      steps: [
        { name: "a", task: "t", attempts: 1 },
        { name: "b", task: "t", dependsOn: ["a"] },
      ],
    });
    const run = await startRun(db.pool, "ops");
    await begin(db.pool, run, "a", 1);
    await fail(db.pool, run, "a", 1, { retryable: false });
    await expectSqlError(
      app.query("select rowflow.retry_run($1)", [run]),
      "42501",
      /permission denied for function retry_run/,
    );
    const { rows } = await operator.query<{ r: Record<string, unknown> }>(
      "select rowflow.retry_run($1, reason => 'flaky API') as r",
      [run],
    );
    expect(rows[0]!.r).toMatchObject({ retried: true, queued: ["a"] });
    const skipped = await operator.query<{ r: Record<string, unknown> }>(
      "select rowflow.skip_step($1, 'a', '{\"ok\": true}') as r",
      [run],
    );
    expect(skipped.rows[0]!.r).toMatchObject({ skipped: true, released: ["b"] });
    await operator.query("select rowflow.pause_workflow('ops')");
    const { rows: audit } = await db.query(
      `select action, session_user_name::text as who from rowflow.audit where workflow = 'ops' and action not in ('define_workflow', 'attach', 'detach') order by id`,
    );
    expect(audit).toEqual([
      { action: "retry_run", who: operator.name },
      { action: "skip_step", who: operator.name },
      { action: "pause_workflow", who: operator.name },
    ]);
  });
});
