// Signals (sql/schema/78_waits/signal.sql, arm_step.sql): a step that waits
// for a named signal, with the signal sent before and after the wait starts,
// twice, to a finished or unknown run, and its timeout with each onTimeout.
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import {
  claimAll,
  clock,
  define,
  expectSqlError,
  queueRun,
  runRow,
  runStep,
  startRun,
  statuses,
  stepRow,
} from "../support.js";
import { arm, runJobs, signal, stepJob, waitEvents } from "./wait-support.js";

const db = useTestDatabase();

const spec = (onTimeout?: unknown) => ({
  steps: [
    { name: "order", task: "t" },
    {
      name: "await-payment",
      dependsOn: ["order"],
      wait: {
        signal: "payment-confirmed",
        ...(onTimeout === undefined ? {} : { timeout: "3 days", onTimeout }),
      },
    },
    { name: "ship", task: "t", dependsOn: ["await-payment"] },
  ],
});

describe("a step waiting for a signal", () => {
  it("is armed by a rowflow:wait job, waits holding no job, and the signal's payload is its output", async () => {
    await db.rollback(async (c) => {
      await define(c, "pay", spec());
      const t = clock();
      const run = await startRun(c, "pay", { orderId: 7 });
      await runStep(c, run, "order", { total: 10 }, t);
      expect(await stepJob(c, run, "await-payment")).toMatchObject({ task: "rowflow:wait" });

      expect(await arm(c, run, "await-payment", t.next())).toMatchObject({
        ok: true,
        outcome: "waiting",
      });
      expect(await stepJob(c, run, "await-payment")).toBeNull(); // no timeout: no deadline job
      expect((await stepRow(c, run, "await-payment")).status).toBe("queued");

      const sent = await signal(c, run, "payment-confirmed", { amount: 10 });
      expect(sent).toMatchObject({
        ok: true,
        status: "delivered",
        step: "await-payment",
        released: ["ship"],
      });
      expect(await stepRow(c, run, "await-payment")).toMatchObject({
        status: "succeeded",
        output: { amount: 10 },
      });
      expect(await stepJob(c, run, "ship")).toMatchObject({ task: "rowflow:step" });
      await runStep(c, run, "ship", null, t);
      expect((await runRow(c, run)).status).toBe("succeeded");
      expect(await waitEvents(c, run)).toEqual([
        "await-payment step_waiting",
        "await-payment signal_received",
      ]);
    });
  });

  it("keeps a signal sent before the wait starts (even before the run is claimed) and consumes it on arming", async () => {
    await db.rollback(async (c) => {
      await define(c, "pay", spec());
      const t = clock();
      const run = await queueRun(c, "pay", {});
      expect(await signal(c, run, "payment-confirmed", { early: true })).toMatchObject({
        ok: true,
        status: "kept",
        waitedBy: ["await-payment"],
      });
      await claimAll(c);
      await runStep(c, run, "order", null, t);
      expect(await arm(c, run, "await-payment", t.next())).toMatchObject({
        ok: true,
        outcome: "succeeded",
      });
      expect(await stepRow(c, run, "await-payment")).toMatchObject({
        status: "succeeded",
        output: { early: true },
      });
      const { rows } = await c.query(
        "select name, step, consumed_at is not null as consumed from rowflow.signals where run_id = $1",
        [run],
      );
      expect(rows).toEqual([{ name: "payment-confirmed", step: "await-payment", consumed: true }]);
    });
  });

  it("a duplicate signal is kept unconsumed and said to be unexpected; the step's output is the first", async () => {
    await db.rollback(async (c) => {
      await define(c, "pay", spec());
      const t = clock();
      const run = await startRun(c, "pay", {});
      await runStep(c, run, "order", null, t);
      await arm(c, run, "await-payment", t.next());
      expect(await signal(c, run, "payment-confirmed", { n: 1 })).toMatchObject({
        status: "delivered",
      });
      expect(await signal(c, run, "payment-confirmed", { n: 2 })).toMatchObject({
        ok: false,
        status: "unexpected",
      });
      expect((await stepRow(c, run, "await-payment")).output).toEqual({ n: 1 });
      expect(await signal(c, run, "no-such-signal", {})).toMatchObject({
        ok: false,
        status: "unexpected",
      });
      const { rows } = await c.query<{ n: number }>(
        "select count(*)::int as n from rowflow.signals where run_id = $1 and consumed_at is null",
        [run],
      );
      expect(rows[0]!.n).toBe(2);
    });
  });

  it("to a finished run and to an unknown run: a clear answer, no error; bad names and payloads raise", async () => {
    await db.rollback(async (c) => {
      await define(c, "pay", spec());
      const t = clock();
      const run = await startRun(c, "pay", {});
      await runStep(c, run, "order", null, t);
      await arm(c, run, "await-payment", t.next());
      await signal(c, run, "payment-confirmed", {});
      await runStep(c, run, "ship", null, t);
      expect(await signal(c, run, "payment-confirmed", {})).toMatchObject({
        ok: false,
        status: "run_finished",
        runStatus: "succeeded",
      });
      expect(await signal(c, 987654321, "payment-confirmed", {})).toEqual({
        ok: false,
        status: "unknown_run",
        run: 987654321,
      });
      await c.query("savepoint bad_name");
      await expectSqlError(signal(c, run, "bad name!", {}), "RF060", /invalid signal name/);
      await c.query("rollback to savepoint bad_name");
      await c.query("set local rowflow.max_output_bytes = 100");
      await expectSqlError(
        signal(c, run, "payment-confirmed", { big: "x".repeat(200) }),
        "RF061",
        /over the limit/,
      );
    });
  });

  it("a late deadline job changes nothing once the signal came; an early one neither", async () => {
    await db.rollback(async (c) => {
      await define(c, "pay", spec("skip"));
      const run = await startRun(c, "pay", {}, null, "2030-01-01T00:00:00Z");
      await runStep(c, run, "order", null, clock("2030-01-01T00:00:00Z"));
      expect(await arm(c, run, "await-payment", "2030-01-01T00:01:00Z")).toMatchObject({
        outcome: "waiting",
      });
      const { rows: why } = await c.query<{ code: string; reason: string }>(
        "select code, reason from rowflow.explain_run($1) where step = 'await-payment'",
        [run],
      );
      expect(why[0]).toMatchObject({ code: "waiting_for_signal" });
      expect(why[0]!.reason).toMatch(
        /^waiting for signal payment-confirmed, until 2030-01-04 00:01:00/,
      );
      expect(await stepJob(c, run, "await-payment")).toEqual({
        task: "rowflow:wait",
        runAt: "2030-01-04T00:01:00.000Z",
      });
      expect(await arm(c, run, "await-payment", "2030-01-02T00:00:00Z")).toMatchObject({
        ok: false,
        reason: "not_due",
      });
      await signal(c, run, "payment-confirmed", { ok: 1 }, "2030-01-02T00:00:00Z");
      // The deadline job went with the wait (the others are the jobs a worker would have completed).
      expect(await runJobs(c, run)).not.toContain(
        "rowflow:wait await-payment 2030-01-04T00:01:00.000Z",
      );
      expect(await runJobs(c, run)).toContain("rowflow:step ship 2030-01-02T00:00:00.000Z");
      expect(await arm(c, run, "await-payment", "2030-01-05T00:00:00Z")).toMatchObject({
        ok: false,
        reason: "step_terminal",
      });
    });
  });
});

describe("a signal's timeout", () => {
  for (const [onTimeout, status, output] of [
    ["skip", "skipped", null],
    [{ output: { paid: false } }, "succeeded", { paid: false }],
  ] as const) {
    it(`onTimeout ${JSON.stringify(onTimeout)}: the step is ${status} and ship is released`, async () => {
      await db.rollback(async (c) => {
        await define(c, "pay", spec(onTimeout));
        const run = await startRun(c, "pay", {}, null, "2030-01-01T00:00:00Z");
        await runStep(c, run, "order", null, clock("2030-01-01T00:00:00Z"));
        await arm(c, run, "await-payment", "2030-01-01T00:01:00Z");
        expect(await arm(c, run, "await-payment", "2030-01-04T00:01:00Z")).toMatchObject({
          ok: true,
          outcome: "timed_out",
          released: ["ship"],
        });
        expect(await stepRow(c, run, "await-payment")).toMatchObject({ status, output });
        expect(await waitEvents(c, run)).toEqual([
          "await-payment step_waiting",
          "await-payment step_timed_out",
        ]);
        // A signal after the timeout: nothing waits for it any more.
        expect(await signal(c, run, "payment-confirmed", {})).toMatchObject({
          status: "unexpected",
        });
      });
    });
  }

  it('onTimeout "fail": the step fails without a retry and the run fails', async () => {
    await db.rollback(async (c) => {
      await define(c, "pay", spec("fail"));
      const run = await startRun(c, "pay", {}, null, "2030-01-01T00:00:00Z");
      await runStep(c, run, "order", null, clock("2030-01-01T00:00:00Z"));
      await arm(c, run, "await-payment", "2030-01-01T00:01:00Z");
      expect(await arm(c, run, "await-payment", "2030-01-04T00:01:00Z")).toMatchObject({
        ok: true,
        outcome: "failed",
        runStatus: "failed",
      });
      expect(await statuses(c, run)).toEqual({
        order: "succeeded",
        "await-payment": "failed",
        ship: "cancelled",
      });
      const { rows } = await c.query<{
        error: { step: string; error: { code: string; message: string } };
      }>("select error from rowflow.runs where id = $1", [run]);
      expect(rows[0]!.error).toMatchObject({
        step: "await-payment",
        error: {
          code: "timeout",
          message: "timed out waiting for signal payment-confirmed after 3 days",
        },
      });
      expect(await signal(c, run, "payment-confirmed", {})).toMatchObject({
        status: "run_finished",
      });
    });
  });
});
