// The failure alerts' outbox (sql/schema/20_tables/26_alerts.sql): every path
// that makes a run failed writes exactly one rowflow.alerts row in the same
// transaction (_fail_attempt, _finish_runs after compensation, claim_runs for
// an unknown version); success, retries, compensation in progress and
// cancellation write none.
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { begin, clock, define, fail, type Queryable, runStep, startRun } from "../support.js";

const db = useTestDatabase();

interface AlertRow {
  id: string;
  type: string;
  run_id: string;
  workflow: string;
  status: string;
  attempts: number;
  payload: Record<string, unknown>;
}

async function alerts(q: Queryable): Promise<AlertRow[]> {
  const { rows } = await q.query<AlertRow>(
    "select id, type, run_id, workflow, status, attempts, payload from rowflow.alerts order by id",
  );
  return rows;
}

describe("a failed run writes one alert with the failure", () => {
  it("fail_step exhausting the attempts: one alert; the retries and the successes none", async () => {
    await db.rollback(async (c) => {
      await define(c, "orders", {
        steps: [
          { name: "a", task: "t" },
          { name: "charge", task: "t", dependsOn: ["a"], attempts: 2 },
        ],
      });
      const t = clock();
      const ok = await startRun(c, "orders", {}, "ok", t.next());
      const bad = await startRun(c, "orders", {}, "bad", t.next());
      await runStep(c, ok, "a", null, t);
      await runStep(c, ok, "charge", null, t);
      await runStep(c, bad, "a", null, t);
      await begin(c, bad, "charge", 1, t.next());
      expect((await fail(c, bad, "charge", 1, { now: t.next() })).outcome).toBe("retrying");
      expect(await alerts(c)).toEqual([]);
      await begin(c, bad, "charge", 2, t.next());
      const failedAt = t.next();
      expect(await fail(c, bad, "charge", 2, { now: failedAt })).toMatchObject({
        outcome: "failed",
        runStatus: "failed",
      });
      const rows = await alerts(c);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        type: "run.failed",
        run_id: String(bad),
        workflow: "orders",
        status: "pending",
        attempts: 0,
      });
      expect(rows[0]!.payload).toEqual({
        time: failedAt.replace(/\.(\d{3})Z$/, ".$1000Z"),
        workflow: "orders",
        version: 1,
        runId: bad,
        step: "charge",
        attempt: 2,
        error: { message: "charge failed" },
        compensation: null,
        links: {
          cli: `rowflow show ${bad}`,
          sql: `select * from rowflow.run_timeline where run_id = ${bad}`,
        },
      });
    });
  });

  it("a compensating run alerts once, when its chain ends, with the chain's results", async () => {
    await db.rollback(async (c) => {
      await define(c, "saga", {
        steps: [
          { name: "a", task: "t", compensate: "undo-a" },
          { name: "f", task: "t", dependsOn: ["a"], attempts: 1 },
        ],
      });
      const t = clock();
      const run = await startRun(c, "saga", {}, null, t.next());
      await runStep(c, run, "a", null, t);
      await begin(c, run, "f", 1, t.next());
      expect((await fail(c, run, "f", 1, { now: t.next() })).runStatus).toBe("compensating");
      expect(await alerts(c)).toEqual([]);
      await runStep(c, run, "compensate:a", null, t);
      const rows = await alerts(c);
      expect(rows.map((r) => [r.run_id, r.status])).toEqual([[String(run), "pending"]]);
      expect(rows[0]!.payload).toMatchObject({
        step: "f",
        attempt: 1,
        error: { message: "f failed" },
        compensation: { "compensate:a": "succeeded" },
      });
    });
  });

  it("a run of an unknown version fails at claim with an alert", async () => {
    await db.rollback(async (c) => {
      await define(c, "lost", { steps: [{ name: "a", task: "t" }] });
      const { rows } = await c.query<{ id: string }>(
        `insert into rowflow.runs (workflow, version, status, input, created_at, updated_at)
         values ('lost', 7, 'queued', '{}', now(), now()) returning id`,
      );
      await c.query("select rowflow.claim_runs(take => 0)");
      const [alert] = await alerts(c);
      expect(alert).toMatchObject({ run_id: rows[0]!.id, workflow: "lost", status: "pending" });
      expect(alert!.payload).toMatchObject({
        version: 7,
        step: null,
        attempt: null,
        error: { code: "RF025", message: "workflow lost has no version 7" },
      });
    });
  });

  it("a poison step's failure alerts; its lost attempts before do not", async () => {
    await db.rollback(async (c) => {
      await define(c, "poison", { steps: [{ name: "p", task: "t", attempts: 5 }] });
      const run = await startRun(c, "poison");
      for (const attempt of [1, 2, 3]) {
        await begin(c, run, "p", attempt);
        await c.query(
          `select rowflow.fail_step(run_id => $1, step => 'p', attempt => $2, error => $3::jsonb)`,
          [run, attempt, JSON.stringify({ kind: "worker_lost", suspect: true, message: "killed" })],
        );
        expect((await alerts(c)).length).toBe(attempt === 3 ? 1 : 0);
      }
      expect((await alerts(c))[0]!.payload).toMatchObject({
        step: "p",
        attempt: 3,
        error: { code: "RF_POISON", poison: true },
      });
    });
  });

  it("a cancelled run does not alert", async () => {
    await db.rollback(async (c) => {
      await define(c, "c", { steps: [{ name: "a", task: "t" }] });
      const run = await startRun(c, "c");
      await c.query("select rowflow.cancel_run(run_id => $1)", [run]);
      const { rows } = await c.query("select status from rowflow.runs where id = $1", [run]);
      expect(rows[0]).toEqual({ status: "cancelled" });
      expect(await alerts(c)).toEqual([]);
    });
  });
});

describe("claim_alerts and record_alert_attempt", () => {
  const setup = async (c: Queryable) => {
    await define(c, "w", { steps: [{ name: "a", task: "t", attempts: 1 }] });
    await define(c, "other", { steps: [{ name: "a", task: "t", attempts: 1 }] });
    const run = await startRun(c, "w");
    await begin(c, run, "a", 1);
    await fail(c, run, "a", 1);
    const other = await startRun(c, "other");
    await begin(c, other, "a", 1);
    await fail(c, other, "a", 1);
    return { run, other };
  };
  const claim = async (c: Queryable, now: string, workflows: string[] | null = null) =>
    (
      await c.query<{
        id: string;
        event_id: string;
        lease: string;
        attempt: number;
        workflow: string;
        body: Record<string, unknown>;
      }>(
        "select * from rowflow.claim_alerts(workflows => $1, max => 10, lease_ms => 30000, now => $2::timestamptz)",
        [workflows, now],
      )
    ).rows;
  const record = async (
    c: Queryable,
    id: string,
    lease: string,
    status: number | null,
    error: string | null,
    retryAt: string | null,
    now: string,
  ) =>
    (
      await c.query<{ r: Record<string, unknown> }>(
        `select rowflow.record_alert_attempt(id => $1, lease => $2, status_code => $3, error => $4,
           duration_ms => 5, retry_at => $5::timestamptz, worker_id => 'w1', now => $6::timestamptz) as r`,
        [id, lease, status, error, retryAt, now],
      )
    ).rows[0]!.r;

  it("leases, retries, fences a stale lease and delivers on a 2xx", async () => {
    await db.rollback(async (c) => {
      const { run } = await setup(c);
      const t0 = "2099-01-01T00:00:00Z";
      const [a, ...rest] = await claim(c, t0, ["w"]);
      expect(rest).toEqual([]);
      expect(a!.workflow).toBe("w");
      expect(a!.attempt).toBe(1);
      expect(a!.body).toMatchObject({ id: a!.event_id, type: "run.failed", runId: run });
      // Leased: nobody else gets it until the lease ends.
      expect(await claim(c, "2099-01-01T00:00:29Z", ["w"])).toEqual([]);
      expect(await record(c, a!.id, a!.lease, 500, null, "2099-01-01T00:00:10Z", t0)).toEqual({
        ok: true,
        status: "pending",
        attempt: 1,
      });
      // The same lease again: refused.
      expect(await record(c, a!.id, a!.lease, 200, null, null, t0)).toEqual({
        ok: false,
        reason: "not_lease_holder",
      });
      expect(await claim(c, "2099-01-01T00:00:09Z", ["w"])).toEqual([]);
      const [b] = await claim(c, "2099-01-01T00:00:10Z", ["w"]);
      expect([b!.id, b!.event_id, b!.attempt]).toEqual([a!.id, a!.event_id, 2]);
      // The lease ends (the worker died): a third claim takes it again.
      const [d] = await claim(c, "2099-01-01T00:00:41Z", ["w"]);
      expect(d!.lease).not.toBe(b!.lease);
      expect((await record(c, b!.id, b!.lease, 200, null, null, t0)).ok).toBe(false);
      expect(await record(c, d!.id, d!.lease, 204, null, null, "2099-01-01T00:00:42Z")).toEqual({
        ok: true,
        status: "delivered",
        attempt: 2,
      });
      const { rows: attempts } = await c.query(
        "select attempt, status_code, error, worker_id from rowflow.alert_attempts where alert_id = $1 order by attempt",
        [a!.id],
      );
      expect(attempts).toEqual([
        { attempt: 1, status_code: 500, error: null, worker_id: "w1" },
        { attempt: 2, status_code: 204, error: null, worker_id: "w1" },
      ]);
      const { rows: undelivered } = await c.query(
        "select workflow, status, attempts from rowflow.undelivered_alerts",
      );
      // The other workflow's alert was never claimed by a worker that only serves "w".
      expect(undelivered).toEqual([{ workflow: "other", status: "pending", attempts: 0 }]);
    });
  });

  it("gives up without a retry time; retry_alerts sends it again; a purge deletes it", async () => {
    await db.rollback(async (c) => {
      const { run } = await setup(c);
      const t0 = "2099-01-01T00:00:00Z";
      const claimed = await claim(c, t0);
      expect(claimed.map((a) => a.workflow).sort()).toEqual(["other", "w"]);
      const a = claimed.find((x) => x.workflow === "w")!;
      expect(await record(c, a.id, a.lease, null, "connect ECONNREFUSED", null, t0)).toEqual({
        ok: true,
        status: "failed",
        attempt: 1,
      });
      const { rows: failed } = await c.query(
        "select status, last_error from rowflow.undelivered_alerts where id = $1",
        [a.id],
      );
      expect(failed).toEqual([{ status: "failed", last_error: "connect ECONNREFUSED" }]);
      const { rows: retried } = await c.query<{ n: number }>(
        "select rowflow.retry_alerts(now => $1::timestamptz) as n",
        ["2099-01-02T00:00:00Z"],
      );
      expect(retried[0]!.n).toBe(1);
      const { rows: audit } = await c.query(
        "select action, data from rowflow.audit where action = 'retry_alerts'",
      );
      expect(audit).toEqual([{ action: "retry_alerts", data: { alerts: [Number(a.id)] } }]);
      const again = await claim(c, "2099-01-02T00:00:00Z", ["w"]);
      expect(again.map((x) => [x.id, x.attempt])).toEqual([[a.id, 2]]);
      await c.query(
        `select rowflow.purge_runs(older_than => '0 s', statuses => '{failed}', workflow => 'w',
           now => '2100-01-01T00:00:00Z')`,
      );
      const { rows: left } = await c.query(
        "select (select count(*) from rowflow.alerts where run_id = $1)::int as alerts, (select count(*) from rowflow.alert_attempts where alert_id = $2)::int as attempts",
        [run, a.id],
      );
      expect(left).toEqual([{ alerts: 0, attempts: 0 }]);
    });
  });
});
