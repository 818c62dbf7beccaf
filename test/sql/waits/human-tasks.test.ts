// Human tasks (sql/schema/78_waits/: arm_step, complete_task, claim_task,
// reassign_task; the rowflow.tasks view and rowflow.inbox): the cases peers
// got wrong (a task in a skipped branch, a skipped task step, two tasks of
// one run, reassignment, escalation, a default on timeout) and the refusals.
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import {
  clock,
  define,
  expectSqlError,
  type Queryable,
  runRow,
  runStep,
  startRun,
  statuses,
  stepRow,
} from "../support.js";
import { arm, waitEvents } from "./wait-support.js";

const db = useTestDatabase();

const form = {
  type: "object",
  required: ["approved"],
  properties: { approved: { type: "boolean" }, note: { type: "string", maxLength: 20 } },
  additionalProperties: false,
};

const approval = (human: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
  steps: [
    { name: "order", task: "t" },
    {
      name: "approve",
      dependsOn: ["order"],
      human: { assignee: "$.input.manager", title: "Approve the order", form, ...human },
      ...extra,
    },
    { name: "ship", task: "t", dependsOn: ["approve"] },
  ],
});

async function complete(
  q: Queryable,
  task: number,
  by: string,
  answer: unknown,
  options: { groups?: string[]; override?: boolean } = {},
) {
  const { rows } = await q.query<{ r: Record<string, unknown> }>(
    `select rowflow.complete_task(task_id => $1, by => $2, answer => $3::jsonb, groups => $4, override => $5) as r`,
    [task, by, JSON.stringify(answer), options.groups ?? [], options.override ?? false],
  );
  return rows[0]!.r;
}

async function task(q: Queryable, id: number) {
  const { rows } = await q.query<Record<string, unknown>>(
    "select id, step, assignee, status, claimed_by, completed_by, answer, overdue from rowflow.tasks where id = $1",
    [id],
  );
  return rows[0]!;
}

/** A run at its approval: order done, the task armed (created) at 2030-01-01T00:01Z. */
async function atApproval(
  q: Queryable,
  spec = approval(),
  input: unknown = { manager: "ann@example.com" },
) {
  await define(q, "buy", spec);
  const run = await startRun(q, "buy", input, null, "2030-01-01T00:00:00Z");
  await runStep(q, run, "order", { total: 5 }, clock("2030-01-01T00:00:00Z"));
  const armed = await arm(q, run, "approve", "2030-01-01T00:01:00Z");
  expect(armed).toMatchObject({ ok: true, outcome: "waiting" });
  return { run, taskId: Number(armed.task) };
}

describe("a human task", () => {
  it("is created for the assignee from the input, listed in their inbox, and its answer is the step's output", async () => {
    await db.rollback(async (c) => {
      const { run, taskId } = await atApproval(c);
      expect(await task(c, taskId)).toMatchObject({
        step: "approve",
        assignee: "ann@example.com",
        status: "open",
      });
      const { rows: why } = await c.query(
        "select code, reason from rowflow.explain_run($1) where step = 'approve'",
        [run],
      );
      expect(why).toEqual([
        {
          code: "waiting_for_human",
          reason: `waiting for task ${taskId}, assigned to ann@example.com`,
        },
      ]);
      const { rows: inbox } = await c.query(
        "select id, title from rowflow.inbox('ann@example.com')",
      );
      expect(inbox).toEqual([{ id: String(taskId), title: "Approve the order" }]);
      expect((await c.query("select id from rowflow.inbox('bob@example.com')")).rows).toEqual([]);

      expect(await complete(c, taskId, "ann@example.com", { approved: true })).toMatchObject({
        ok: true,
        released: ["ship"],
      });
      expect(await stepRow(c, run, "approve")).toMatchObject({
        status: "succeeded",
        output: { approved: true },
      });
      expect(await task(c, taskId)).toMatchObject({
        status: "done",
        completed_by: "ann@example.com",
      });
      expect(await waitEvents(c, run)).toEqual([
        "approve task_created",
        "approve step_waiting",
        "approve task_completed",
      ]);
    });
  });

  it("refuses an answer that does not match the form, naming every problem, and stays open", async () => {
    await db.rollback(async (c) => {
      const { taskId } = await atApproval(c);
      await c.query("savepoint s");
      let detail = "";
      try {
        await complete(c, taskId, "ann@example.com", {
          approved: "yes",
          note: "x".repeat(30),
          extra: 1,
        });
      } catch (error) {
        const e = error as { code: string; message: string; detail: string };
        expect(e.code).toBe("RF066");
        expect(e.message).toMatch(/does not match the form/);
        detail = e.detail;
      }
      expect(detail.split("\n").length).toBe(3);
      await c.query("rollback to savepoint s");
      expect(await task(c, taskId)).toMatchObject({ status: "open" });
    });
  });

  it("refuses someone who is not the assignee; a member of the assigned group may; an operator overrides", async () => {
    await db.rollback(async (c) => {
      const { taskId } = await atApproval(c, approval({ assignee: "managers" }));
      await c.query("savepoint s");
      await expectSqlError(
        complete(c, taskId, "eve@example.com", { approved: true }),
        "RF065",
        /assigned to managers/,
      );
      await c.query("rollback to savepoint s");
      // A group member claims it; from then on only they complete it.
      await c.query("select rowflow.claim_task($1, 'bob@example.com', array['managers'])", [
        taskId,
      ]);
      await expectSqlError(
        complete(c, taskId, "carl@example.com", { approved: true }, { groups: ["managers"] }),
        "RF065",
        /claimed by bob@example.com/,
      );
      await c.query("rollback to savepoint s");
      await c.query("select rowflow.claim_task($1, 'bob@example.com', array['managers'])", [
        taskId,
      ]);
      expect(
        await complete(c, taskId, "ops@example.com", { approved: false }, { override: true }),
      ).toMatchObject({
        ok: true,
      });
      expect(await task(c, taskId)).toMatchObject({
        status: "done",
        completed_by: "ops@example.com",
      });
      const { rows } = await c.query(
        "select action, data ->> 'assignee' as assignee from rowflow.audit where action = 'complete_task'",
      );
      expect(rows).toEqual([{ action: "complete_task", assignee: "managers" }]);
      await expectSqlError(
        complete(c, taskId, "ops@example.com", { approved: true }, { override: true }),
        "RF064",
        /is done/,
      );
    });
  });

  it("two tasks of one run keep their own answers", async () => {
    await db.rollback(async (c) => {
      await define(c, "two", {
        steps: [
          { name: "legal", human: { assignee: "legal", title: "Legal review" } },
          { name: "finance", human: { assignee: "finance", title: "Finance review" } },
          { name: "sign", task: "t", dependsOn: ["legal", "finance"] },
        ],
      });
      const run = await startRun(c, "two", {}, null, "2030-01-01T00:00:00Z");
      const legal = Number((await arm(c, run, "legal", "2030-01-01T00:01:00Z")).task);
      const finance = Number((await arm(c, run, "finance", "2030-01-01T00:01:00Z")).task);
      expect(legal).not.toBe(finance);
      expect(await complete(c, finance, "finance", { ok: "f" })).toMatchObject({ released: [] });
      expect(await complete(c, legal, "legal", { ok: "l" })).toMatchObject({ released: ["sign"] });
      expect(await stepRow(c, run, "legal")).toMatchObject({ output: { ok: "l" } });
      expect(await stepRow(c, run, "finance")).toMatchObject({ output: { ok: "f" } });
    });
  });

  it("in a branch whose condition is false: no task is created; a skipped task step cancels its task", async () => {
    await db.rollback(async (c) => {
      await define(c, "buy", approval({}, { if: "$.input.big == true" }));
      const run = await startRun(
        c,
        "buy",
        { manager: "ann", big: false },
        null,
        "2030-01-01T00:00:00Z",
      );
      await runStep(c, run, "order", null, clock("2030-01-01T00:00:00Z"));
      expect(await statuses(c, run)).toMatchObject({ approve: "skipped", ship: "queued" });
      const { rows } = await c.query(
        "select count(*)::int as n from rowflow.human_tasks where run_id = $1",
        [run],
      );
      expect(rows).toEqual([{ n: 0 }]);
    });
    await db.rollback(async (c) => {
      const { run, taskId } = await atApproval(c);
      await c.query("select rowflow.skip_step($1, 'approve', null, 'not needed')", [run]);
      expect(await task(c, taskId)).toMatchObject({ status: "cancelled" });
      expect(await statuses(c, run)).toMatchObject({ approve: "skipped", ship: "queued" });
      await expectSqlError(
        complete(c, taskId, "ann@example.com", { approved: true }),
        "RF064",
        /is cancelled/,
      );
    });
  });

  it("is reassigned: the new assignee completes it, the old one no longer can, and who did it is recorded", async () => {
    await db.rollback(async (c) => {
      const { run, taskId } = await atApproval(c);
      await c.query(
        "select rowflow.reassign_task($1, 'bob@example.com', 'ann@example.com', 'on leave')",
        [taskId],
      );
      expect(await task(c, taskId)).toMatchObject({ assignee: "bob@example.com", status: "open" });
      await c.query("savepoint s");
      await expectSqlError(
        complete(c, taskId, "ann@example.com", { approved: true }),
        "RF065",
        /assigned to bob/,
      );
      await c.query("rollback to savepoint s");
      await complete(c, taskId, "bob@example.com", { approved: true });
      const { rows } = await c.query<{ data: Record<string, unknown> }>(
        "select data from rowflow.events where run_id = $1 and type = 'task_reassigned'",
        [run],
      );
      expect(rows[0]!.data).toMatchObject({
        to: "bob@example.com",
        by: "ann@example.com",
        reason: "on leave",
      });
    });
  });

  it("escalates once when due, then applies onTimeout at the next due; overdue shows meanwhile", async () => {
    await db.rollback(async (c) => {
      const spec = approval({
        due: "2 days",
        escalateTo: "directors",
        onTimeout: { output: { approved: false } },
      });
      const { run, taskId } = await atApproval(c, spec);
      expect(await task(c, taskId)).toMatchObject({ overdue: false }); // due 2030-01-03
      expect(await arm(c, run, "approve", "2030-01-03T00:01:00Z")).toMatchObject({
        ok: true,
        outcome: "escalated",
        to: "directors",
        until: "2030-01-05T00:01:00+00:00",
      });
      expect(await task(c, taskId)).toMatchObject({ assignee: "directors", status: "open" });
      // rowflow.tasks compares with now(): past its due time a task shows overdue.
      await c.query(
        "update rowflow.human_tasks set due_at = now() - interval '1 minute' where id = $1",
        [taskId],
      );
      expect(await task(c, taskId)).toMatchObject({ overdue: true });
      expect(await arm(c, run, "approve", "2030-01-05T00:01:00Z")).toMatchObject({
        ok: true,
        outcome: "timed_out",
        released: ["ship"],
      });
      expect(await stepRow(c, run, "approve")).toMatchObject({
        status: "succeeded",
        output: { approved: false },
      });
      expect(await task(c, taskId)).toMatchObject({ status: "expired" });
      expect(await waitEvents(c, run)).toEqual([
        "approve task_created",
        "approve step_waiting",
        "approve task_escalated",
        "approve step_timed_out",
      ]);
    });
  });

  it("cancelling the run cancels its open task, ends the wait and removes the deadline job", async () => {
    await db.rollback(async (c) => {
      const { run, taskId } = await atApproval(c, approval({ due: "1 day" }));
      await c.query("select rowflow.cancel_run($1, 'customer left')", [run]);
      expect(await task(c, taskId)).toMatchObject({ status: "cancelled" });
      const { rows } = await c.query<{ waits: number; jobs: number }>(
        `select (select count(*)::int from rowflow.step_waits where run_id = $1) as waits,
                (select count(*)::int from graphile_worker._private_jobs
                 where (payload ->> 'run')::bigint = $1 and run_at > '2030-01-01T12:00:00Z') as jobs`,
        [run],
      );
      expect(rows).toEqual([{ waits: 0, jobs: 0 }]);
      await expectSqlError(
        complete(c, taskId, "ann@example.com", { approved: true }),
        "RF064",
        /is cancelled/,
      );
    });
  });

  it("without an assignee at the path, the step fails with a clear error", async () => {
    await db.rollback(async (c) => {
      await define(c, "buy", approval());
      const run = await startRun(c, "buy", {}, null, "2030-01-01T00:00:00Z");
      await runStep(c, run, "order", null, clock("2030-01-01T00:00:00Z"));
      expect(await arm(c, run, "approve", "2030-01-01T00:01:00Z")).toMatchObject({
        outcome: "failed",
      });
      expect((await runRow(c, run)).status).toBe("failed");
      const { rows } = await c.query<{ e: { error: { message: string } } }>(
        "select error as e from rowflow.runs where id = $1",
        [run],
      );
      expect(rows[0]!.e.error.message).toMatch(
        /human.assignee \$\."input"\."manager" gave no person or group/,
      );
    });
  });
});
