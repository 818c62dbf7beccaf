// Child workflows (sql/schema/78_waits/_start_child.sql, settle_child.sql,
// _child_ended.sql, _cancel_child.sql): a "child" step starts a run of
// another workflow when it is armed, waits for it holding nothing, and takes
// its outcome; failures retry with a new child, cancels and skips cascade,
// a redelivered arm job starts one child, recursion is bounded.
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import type { Queryable } from "../support.js";
import {
  begin,
  claimAll,
  clock,
  complete,
  define,
  expectSqlError,
  fail,
  runRow,
  runStep,
  startRun,
  statuses,
  stepRow,
} from "../support.js";
import { arm, stepJob } from "./wait-support.js";

const db = useTestDatabase();

const shipping = {
  steps: [
    { name: "label", task: "t" },
    { name: "send", task: "t", dependsOn: ["label"], attempts: 1 },
  ],
};
const order = (attempts = 1) => ({
  steps: [
    { name: "pack", task: "t" },
    {
      name: "ship",
      dependsOn: ["pack"],
      attempts,
      backoff: { type: "fixed", base: "1 second", jitter: 0 },
      child: { workflow: "shipping", input: "$.steps.pack" },
    },
    { name: "notify", task: "t", dependsOn: ["ship"] },
  ],
});

/** expectSqlError inside the test's transaction: under a savepoint. */
async function expectDefineError(
  q: Queryable,
  name: string,
  spec: unknown,
  code: string,
  message: RegExp | string,
): Promise<void> {
  await q.query("savepoint bad_define");
  await expectSqlError(define(q, name, spec), code, message);
  await q.query("rollback to savepoint bad_define");
}

async function settle(
  q: Queryable,
  run: number,
  step: string,
  now: string,
): Promise<Record<string, unknown>> {
  const { attempt } = await stepRow(q, run, step);
  const { rows } = await q.query<{ r: Record<string, unknown> }>(
    "select rowflow.settle_child(run_id => $1, step => $2, attempt => $3, now => $4::timestamptz) as r",
    [run, step, attempt, now],
  );
  return rows[0]!.r;
}

async function children(q: Queryable, run: number): Promise<{ id: number; status: string }[]> {
  const { rows } = await q.query<{ id: string; status: string }>(
    "select id, status from rowflow.runs where parent_run_id = $1 order by id",
    [run],
  );
  return rows.map((r) => ({ id: Number(r.id), status: r.status }));
}

/** The jobs of a step of run `run`, as "<task> <attempt>", sorted. */
async function stepJobs(q: Queryable, run: number, step: string): Promise<string[]> {
  const { rows } = await q.query<{ j: string }>(
    `select t.identifier || ' ' || (j.payload ->> 'attempt') as j
     from graphile_worker._private_jobs as j join graphile_worker._private_tasks as t on t.id = j.task_id
     where (j.payload ->> 'run')::bigint = $1 and j.payload ->> 'step' = $2 order by 1`,
    [run, step],
  );
  return rows.map((r) => r.j);
}

/** Claims the child and runs both its steps to success. */
async function finishChild(q: Queryable, child: number, t: { next(): string }): Promise<void> {
  await claimAll(q, t.next());
  await runStep(q, child, "label", { id: "L1" }, t);
  await runStep(q, child, "send", { tracking: "T-9" }, t);
}

describe("a child step", () => {
  it("starts one child run of the latest version, waits holding no job, and takes the child's output", async () => {
    await db.rollback(async (c) => {
      await define(c, "shipping", shipping);
      await define(c, "order", order());
      const t = clock();
      const run = await startRun(c, "order", { orderId: 7 }, null, t.next());
      await runStep(c, run, "pack", { box: "B2", weight: 3 }, t);
      expect(await stepJob(c, run, "ship")).toMatchObject({ task: "rowflow:wait" });

      const armed = await arm(c, run, "ship", t.next());
      const [child] = await children(c, run);
      expect(armed).toEqual({ ok: true, outcome: "waiting", child: child!.id });
      const { rows: childRows } = await c.query(
        `select workflow, version, status, input, parent_step, started_by = session_user as same_starter
         from rowflow.runs where id = $1`,
        [child!.id],
      );
      expect(childRows).toEqual([
        {
          workflow: "shipping",
          version: 1,
          status: "queued",
          input: { box: "B2", weight: 3 },
          parent_step: "ship",
          same_starter: true,
        },
      ]);
      expect(await stepJob(c, run, "ship")).toBeNull(); // no deadline, no job: no slot held
      expect((await stepRow(c, run, "ship")).status).toBe("queued");

      // The same arm job delivered again starts nothing.
      expect(await arm(c, run, "ship", t.next())).toMatchObject({ ok: false, reason: "not_due" });
      expect(await children(c, run)).toHaveLength(1);

      // explain_run and run_steps show the link.
      const { rows: why } = await c.query(
        "select step, code, reason, detail ->> 'childRunId' as child from rowflow.explain_run($1) where step = 'ship'",
        [run],
      );
      expect(why).toEqual([
        {
          step: "ship",
          code: "waiting_for_child",
          reason: `waiting for child run ${child!.id} (shipping, queued)`,
          child: String(child!.id),
        },
      ]);
      const { rows: link } = await c.query(
        "select child_run_id from rowflow.run_steps where run_id = $1 and step = 'ship'",
        [run],
      );
      expect(link).toEqual([{ child_run_id: String(child!.id) }]);

      // Settling before the child ended changes nothing.
      expect(await settle(c, run, "ship", t.next())).toMatchObject({
        ok: false,
        reason: "child_active",
      });

      await finishChild(c, child!.id, t);
      expect((await runRow(c, child!.id)).status).toBe("succeeded");
      // The arm job stays (no worker completes it here); the child's end queued rowflow:child.
      expect(await stepJobs(c, run, "ship")).toEqual(["rowflow:child 1", "rowflow:wait 1"]);
      expect(await settle(c, run, "ship", t.next())).toMatchObject({
        ok: true,
        outcome: "succeeded",
        child: child!.id,
        released: ["notify"],
      });
      expect(await stepRow(c, run, "ship")).toMatchObject({
        status: "succeeded",
        output: { send: { tracking: "T-9" } },
      });
      // A second settle (the job delivered twice) changes nothing.
      expect(await settle(c, run, "ship", t.next())).toMatchObject({
        ok: false,
        reason: "step_terminal",
      });
      await runStep(c, run, "notify", null, t);
      expect((await runRow(c, run)).status).toBe("succeeded");
      const { rows: events } = await c.query(
        "select type, data ->> 'child' as child from rowflow.events where run_id = $1 and step = 'ship' order by id",
        [run],
      );
      expect(events).toEqual([
        { type: "step_waiting", child: String(child!.id) },
        { type: "child_succeeded", child: String(child!.id) },
      ]);
    });
  });

  it("fails its attempt when the child fails; with attempts 2 a second child is started, then the run fails", async () => {
    await db.rollback(async (c) => {
      await define(c, "shipping", shipping);
      await define(c, "order", order(2));
      const t = clock();
      const run = await startRun(c, "order", {}, null, t.next());
      await runStep(c, run, "pack", { box: "B1" }, t);
      await arm(c, run, "ship", t.next());
      const [first] = await children(c, run);
      await claimAll(c, t.next());
      await runStep(c, first!.id, "label", null, t);
      expect((await begin(c, first!.id, "send", 1, t.next())).ok).toBe(true);
      await fail(c, first!.id, "send", 1, { now: t.next() });
      expect((await runRow(c, first!.id)).status).toBe("failed");

      const retry = await settle(c, run, "ship", t.next());
      expect(retry).toMatchObject({
        ok: true,
        outcome: "retrying",
        nextAttempt: 2,
        child: first!.id,
      });
      expect(await stepRow(c, run, "ship")).toMatchObject({ status: "queued", attempt: 2 });
      expect(await stepJobs(c, run, "ship")).toEqual([
        "rowflow:child 1",
        "rowflow:wait 1",
        "rowflow:wait 2",
      ]);

      await arm(c, run, "ship", t.next());
      const kids = await children(c, run);
      expect(kids.map((k) => k.status)).toEqual(["failed", "queued"]);
      await claimAll(c, t.next());
      await runStep(c, kids[1]!.id, "label", null, t);
      await begin(c, kids[1]!.id, "send", 1, t.next());
      await fail(c, kids[1]!.id, "send", 1, { now: t.next() });

      expect(await settle(c, run, "ship", t.next())).toMatchObject({
        ok: true,
        outcome: "failed",
        runStatus: "failed",
      });
      const { rows } = await c.query<{ error: Record<string, unknown> }>(
        "select error from rowflow.step_runs where run_id = $1 and step = 'ship'",
        [run],
      );
      expect(rows[0]!.error).toMatchObject({
        code: "child_failed",
        child: kids[1]!.id,
        message: `child run ${kids[1]!.id} (shipping) failed: send failed`,
      });
      expect(await statuses(c, run)).toEqual({
        pack: "succeeded",
        ship: "failed",
        notify: "cancelled",
      });
    });
  });

  it("is retried by retry_run with a new child (the failed one stays as it was)", async () => {
    await db.rollback(async (c) => {
      await define(c, "shipping", shipping);
      await define(c, "order", order(1));
      const t = clock();
      const run = await startRun(c, "order", {}, null, t.next());
      await runStep(c, run, "pack", { box: "B1" }, t);
      await arm(c, run, "ship", t.next());
      const [first] = await children(c, run);
      await claimAll(c, t.next());
      await runStep(c, first!.id, "label", null, t);
      await begin(c, first!.id, "send", 1, t.next());
      await fail(c, first!.id, "send", 1, { now: t.next() });
      expect(await settle(c, run, "ship", t.next())).toMatchObject({
        outcome: "failed",
        runStatus: "failed",
      });

      const { rows } = await c.query<{ r: Record<string, unknown> }>(
        "select rowflow.retry_run(run_id => $1, now => $2::timestamptz) as r",
        [run, t.next()],
      );
      expect(rows[0]!.r).toMatchObject({ retried: true, queued: ["ship"] });
      expect(await stepJob(c, run, "ship")).toMatchObject({ task: "rowflow:wait" });
      expect(await arm(c, run, "ship", t.next())).toMatchObject({ ok: true, outcome: "waiting" });
      const kids = await children(c, run);
      expect(kids.map((k) => k.status)).toEqual(["failed", "queued"]);
      await finishChild(c, kids[1]!.id, t);
      expect(await settle(c, run, "ship", t.next())).toMatchObject({ outcome: "succeeded" });
      await runStep(c, run, "notify", null, t);
      expect((await runRow(c, run)).status).toBe("succeeded");
      expect((await runRow(c, first!.id)).status).toBe("failed");
    });
  });

  it("cancels its child (and the child's running step) when the parent is cancelled", async () => {
    await db.rollback(async (c) => {
      await define(c, "shipping", shipping);
      await define(c, "order", order());
      const t = clock();
      const run = await startRun(c, "order", {}, null, t.next());
      await runStep(c, run, "pack", {}, t);
      await arm(c, run, "ship", t.next());
      const [child] = await children(c, run);
      await claimAll(c, t.next());
      expect((await begin(c, child!.id, "label", 1, t.next())).ok).toBe(true);

      await c.query("select rowflow.cancel_run(run_id => $1, reason => 'customer left')", [run]);
      expect((await runRow(c, run)).status).toBe("cancelled");
      expect((await runRow(c, child!.id)).status).toBe("cancelled");
      expect(await statuses(c, child!.id)).toEqual({ label: "cancelled", send: "cancelled" });
      // The child's running handler is refused at its gate call.
      expect(await complete(c, child!.id, "label", 1, null, t.next())).toMatchObject({
        ok: false,
        reason: "step_terminal",
      });
      // No rowflow:child job for a parent step that no longer waits (the arm job stays: no worker here).
      expect(await stepJobs(c, run, "ship")).toEqual(["rowflow:wait 1"]);
      const { rows } = await c.query(
        "select action, data ->> 'via' as via from rowflow.audit where run_id = $1",
        [child!.id],
      );
      expect(rows).toEqual([{ action: "cancel_run", via: "parent" }]);
    });
  });

  it("cancels its child when the step is skipped or another step fails the run, and fails when the child is cancelled", async () => {
    await db.rollback(async (c) => {
      await define(c, "shipping", shipping);
      await define(c, "two", {
        steps: [
          { name: "a", child: { workflow: "shipping", input: "$.input" } },
          { name: "b", child: { workflow: "shipping" } },
          { name: "c", task: "t", attempts: 1 },
        ],
      });
      const t = clock();
      const run = await startRun(c, "two", { n: 1 }, null, t.next());
      await arm(c, run, "a", t.next());
      await arm(c, run, "b", t.next());
      const [a, b] = await children(c, run);
      expect((await runRow(c, a!.id)).status).toBe("queued");

      await c.query("select rowflow.skip_step(run_id => $1, step => 'a', output => '{\"x\": 1}')", [
        run,
      ]);
      expect((await runRow(c, a!.id)).status).toBe("cancelled");
      expect((await runRow(c, b!.id)).status).toBe("queued");

      await begin(c, run, "c", 1, t.next());
      await fail(c, run, "c", 1, { now: t.next() });
      expect((await runRow(c, run)).status).toBe("failed");
      expect((await runRow(c, b!.id)).status).toBe("cancelled");

      // A child cancelled on its own fails the parent step (code child_cancelled).
      const run2 = await startRun(c, "two", { n: 2 }, null, t.next());
      await arm(c, run2, "a", t.next());
      const [a2] = await children(c, run2);
      await c.query("select rowflow.cancel_run(run_id => $1, reason => 'not needed')", [a2!.id]);
      expect(await settle(c, run2, "a", t.next())).toMatchObject({ ok: true, outcome: "failed" });
      const { rows } = await c.query<{ error: Record<string, unknown> }>(
        "select error from rowflow.step_runs where run_id = $1 and step = 'a'",
        [run2],
      );
      expect(rows[0]!.error).toMatchObject({
        code: "child_cancelled",
        message: `child run ${a2!.id} (shipping) cancelled`,
      });
    });
  });

  it("may start its own workflow, at most 10 levels deep (code child_depth)", async () => {
    await db.rollback(async (c) => {
      await define(c, "nest", {
        steps: [{ name: "down", child: { workflow: "nest" } }],
      });
      const t = clock();
      const top = await startRun(c, "nest", {}, null, t.next());
      const chain = [top];
      for (let level = 1; level <= 10; level++) {
        const armed = await arm(c, chain.at(-1)!, "down", t.next());
        expect(armed, `level ${level}`).toMatchObject({ ok: true, outcome: "waiting" });
        chain.push(armed.child as number);
        await claimAll(c, t.next());
      }
      expect(chain).toHaveLength(11);
      const last = await arm(c, chain.at(-1)!, "down", t.next());
      expect(last).toMatchObject({ ok: true, outcome: "failed", runStatus: "failed" });
      const { rows } = await c.query<{ error: Record<string, unknown> }>(
        "select error from rowflow.step_runs where run_id = $1 and step = 'down'",
        [chain.at(-1)],
      );
      expect(rows[0]!.error).toMatchObject({ code: "child_depth" });
      // The failure climbs the chain, one rowflow:child job per level.
      for (let i = chain.length - 2; i >= 0; i--) {
        expect(await settle(c, chain[i]!, "down", t.next()), `level ${i}`).toMatchObject({
          outcome: "failed",
        });
      }
      expect((await runRow(c, top)).status).toBe("failed");
    });
  });

  it("is validated at define time: an unknown workflow (RF015), handler options, unknown options", async () => {
    await db.rollback(async (c) => {
      await expectDefineError(
        c,
        "order",
        order(),
        "RF015",
        'workflow "order", step "ship": child.workflow "shipping" is not defined; define it first',
      );
      await define(c, "shipping", shipping);
      await expectDefineError(
        c,
        "o",
        { steps: [{ name: "s", task: "t", child: { workflow: "shipping" } }] },
        "RF002",
        'workflow "o", step "s": a "child" step has no task; "task" does not apply to it',
      );
      await expectDefineError(
        c,
        "o",
        { steps: [{ name: "s", child: { workflow: "shipping", version: 1 } }] },
        "RF002",
        'workflow "o", step "s": unknown child option "version"; allowed: workflow, input',
      );
      await expectDefineError(
        c,
        "o",
        { steps: [{ name: "s", child: {} }] },
        "RF001",
        'workflow "o", step "s": child.workflow is required: the name of the workflow to start',
      );
      await expectDefineError(
        c,
        "o",
        { steps: [{ name: "s", child: { workflow: "shipping", input: "$.(" } }] },
        "RF009",
        /child\.input is not a valid SQL\/JSON path/,
      );
      await expectDefineError(
        c,
        "o",
        { steps: [{ name: "s", child: { workflow: "shipping" }, wait: { signal: "x" } }] },
        "RF001",
        /a step waits in one way only; it has wait and child/,
      );
      expect(await define(c, "order", order(3))).toBe(1);
      const { rows } = await c.query(
        "select task, attempts, wait from rowflow.workflow_steps where workflow = 'order' and name = 'ship'",
      );
      expect(rows).toEqual([
        {
          task: "(child)",
          attempts: 3,
          wait: { kind: "child", workflow: "shipping", input: '$."steps"."pack"' },
        },
      ]);
    });
  });

  it("fails at once when its input is not an object (code child_input)", async () => {
    await db.rollback(async (c) => {
      await define(c, "shipping", shipping);
      await define(c, "order", order(3));
      const t = clock();
      const run = await startRun(c, "order", {}, null, t.next());
      await runStep(c, run, "pack", [1, 2], t);
      expect(await arm(c, run, "ship", t.next())).toMatchObject({
        outcome: "failed",
        runStatus: "failed",
      });
      expect(await children(c, run)).toEqual([]);
      const { rows } = await c.query<{ error: Record<string, unknown> }>(
        "select error from rowflow.step_runs where run_id = $1 and step = 'ship'",
        [run],
      );
      expect(rows[0]!.error).toMatchObject({
        code: "child_input",
        message: 'child.input $."steps"."pack" gave array, not a JSON object',
      });
    });
  });
});
