// rowflow.fail_step's retries (sql/schema/60_gate/fail_step.sql): backoff, retry_at,
// jitter, non-retryable failures.
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { begin, define, fail, jobKeys, runRow, startRun, statuses, stepRow } from "../support.js";

const db = useTestDatabase();

describe("fail_step retries with backoff", () => {
  const now = "2030-01-01T00:00:00.000Z";
  const plus = (ms: number) => new Date(Date.parse(now) + ms).toISOString();
  const retryAtMs = (r: { retryAt?: string }) => Date.parse(r.retryAt!) - Date.parse(now);

  it("uses a fixed delay, then fails for good when attempts are exhausted", async () => {
    await db.rollback(async (c) => {
      await define(c, "fixed", {
        steps: [
          { name: "a", task: "t", attempts: 3, backoff: { type: "fixed", base: "5 s", jitter: 0 } },
        ],
      });
      const run = await startRun(c, "fixed");
      const began = (attempt: number) => new Date(Date.parse(now) - 1000 * (10 - attempt));
      for (const attempt of [1, 2]) {
        expect((await begin(c, run, "a", attempt, began(attempt).toISOString())).ok).toBe(true);
        const r = await fail(c, run, "a", attempt, { now });
        expect(r).toEqual({
          ok: true,
          outcome: "retrying",
          retryAt: plus(5000).replace("Z", "+00:00").replace(".000", ""),
          nextAttempt: attempt + 1,
          runStatus: "running",
        });
        expect(await stepRow(c, run, "a")).toMatchObject({
          status: "queued",
          attempt: attempt + 1,
        });
      }
      const { rows: jobs } = await c.query(
        `select 'rowflow:' || (payload->>'run') || ':a:' || (payload->>'attempt') as key, run_at = $2::timestamptz as at_backoff
         from graphile_worker._private_jobs where (payload->>'run')::bigint = $1 order by key`,
        [run, plus(5000)],
      );
      expect(jobs).toEqual([
        { key: `rowflow:${run}:a:1`, at_backoff: false },
        { key: `rowflow:${run}:a:2`, at_backoff: true },
        { key: `rowflow:${run}:a:3`, at_backoff: true },
      ]);
      expect((await begin(c, run, "a", 3, began(3).toISOString())).ok).toBe(true);
      expect(await fail(c, run, "a", 3, { now })).toEqual({
        ok: true,
        outcome: "failed",
        runStatus: "failed",
      });
      expect(await runRow(c, run)).toEqual({
        status: "failed",
        started: true,
        finished: true,
        error: { step: "a", attempt: 3, error: { message: "a failed" } },
      });
      // Retries and the failure are stored, each with when its attempt started.
      const { rows: events } = await c.query<{
        step: string | null;
        type: string;
        attempt: number | null;
        started: string | null;
        next: number | null;
      }>(
        `select step, type, attempt, data->>'startedAt' as started, (data->>'nextAttempt')::int as next
         from rowflow.events where run_id = $1 order by id`,
        [run],
      );
      expect(
        events.map((e) => ({ ...e, started: e.started && new Date(e.started).toISOString() })),
      ).toEqual([
        { step: "a", type: "step_retrying", attempt: 1, started: began(1).toISOString(), next: 2 },
        { step: "a", type: "step_retrying", attempt: 2, started: began(2).toISOString(), next: 3 },
        { step: "a", type: "step_failed", attempt: 3, started: began(3).toISOString(), next: null },
        { step: null, type: "run_failed", attempt: null, started: null, next: null },
      ]);
    });
  });

  it("doubles an exponential delay up to max; retry_at overrides; jitter stays in range", async () => {
    await db.rollback(async (c) => {
      await define(c, "expo", {
        steps: [
          {
            name: "a",
            task: "t",
            attempts: 6,
            backoff: { type: "exponential", base: "1 s", max: "5 s", jitter: 0 },
          },
          {
            name: "j",
            task: "t",
            attempts: 1000,
            backoff: { type: "fixed", base: "10 s", max: "1 m", jitter: 0.5 },
          },
        ],
      });
      const run = await startRun(c, "expo");
      const delays: number[] = [];
      for (const attempt of [1, 2, 3, 4]) {
        await begin(c, run, "a", attempt);
        delays.push(retryAtMs(await fail(c, run, "a", attempt, { now })));
      }
      expect(delays).toEqual([1000, 2000, 4000, 5000]);
      await begin(c, run, "a", 5);
      const override = await fail(c, run, "a", 5, { now, retryAt: "2031-06-01T00:00:00Z" });
      expect(override.retryAt).toBe("2031-06-01T00:00:00+00:00");
      for (let attempt = 1; attempt <= 50; attempt++) {
        await begin(c, run, "j", attempt);
        const ms = retryAtMs(await fail(c, run, "j", attempt, { now }));
        expect(ms).toBeGreaterThanOrEqual(5000);
        expect(ms).toBeLessThanOrEqual(15000);
      }
    });
  });

  it("does not retry a non-retryable failure", async () => {
    await db.rollback(async (c) => {
      await define(c, "noretry", {
        steps: [
          { name: "a", task: "t", attempts: 5 },
          { name: "b", task: "t" },
        ],
      });
      const run = await startRun(c, "noretry");
      await begin(c, run, "a");
      expect(await fail(c, run, "a", 1, { retryable: false })).toEqual({
        ok: true,
        outcome: "failed",
        runStatus: "failed",
      });
      expect(await statuses(c, run)).toEqual({ a: "failed", b: "cancelled" });
      // b's queued job is removed; a's (the failing attempt's own) stays for its worker.
      expect(await jobKeys(c, run)).toEqual([`rowflow:${run}:a:1`]);
    });
  });
});
