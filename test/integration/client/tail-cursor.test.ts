// The transition cursor of `rowflow tail` (src/client/tail/transition-cursor.ts)
// on a real database: every transition once, including one committed late by
// a transaction that wrote it before transitions already read; the overlap
// it re-reads prints nothing twice; its lower edge moves up once nothing that
// could still commit below it is in flight.
import { describe, expect, it } from "vitest";

import {
  isoFromUs,
  type Transition,
  TransitionCursor,
} from "../../../src/client/tail/transition-cursor.js";
import { transitionDetail } from "../../../src/client/tail/transition-detail.js";
import { readTransitions } from "../../../src/db/runs/transitions.js";
import { useTestDatabase } from "../../helpers/db.js";
import { useLoginRoles } from "../../helpers/roles.js";
import { waitFor } from "../../helpers/wait-for.js";
import { begin, complete, define, fail, startRun } from "../../sql/support.js";

const db = useTestDatabase();
const loginRole = useLoginRoles(db);

const brief = (ts: Transition[]) =>
  ts.map((t) => `${t.runId} ${t.step ?? "-"} ${t.type} ${t.attempt ?? "-"}`);
const micros = (iso: string) => {
  const [, frac] = /\.(\d{6})Z$/.exec(iso)!;
  return BigInt(Date.parse(iso.replace(/\.\d{6}Z$/, "Z"))) * 1000n + BigInt(frac!);
};

async function serverNowUs(): Promise<bigint> {
  const { rows } = await db.query<{ us: string }>(
    "select (extract(epoch from clock_timestamp()) * 1000000)::bigint::text as us",
  );
  return BigInt(rows[0]!.us);
}

describe("TransitionCursor", () => {
  it("reads a transition committed late, before transitions already read, exactly once", async () => {
    await define(db.pool, "late", { steps: [{ name: "only", task: "t" }] });
    const cursor = await TransitionCursor.open(db.pool, { workflow: "late" });
    // The naive cursor: its edge is always the last read's time.
    const naive = await TransitionCursor.open(db.pool, { workflow: "late", maxLagMs: 0 });
    const [r1, r2] = [await startRun(db.pool, "late"), await startRun(db.pool, "late")];
    expect(brief(await cursor.read())).toEqual([
      `${r1} - run_started -`,
      `${r1} only step_queued 1`,
      `${r2} - run_started -`,
      `${r2} only step_queued 1`,
    ]);
    await naive.read();

    // Transaction X begins r1's step and stays open.
    const x = await db.pool.connect();
    try {
      await x.query("begin");
      await begin(x, r1, "only", 1);
      const { rows } = await x.query<{ us: string }>(
        `select (extract(epoch from started_at) * 1000000)::bigint::text as us
         from rowflow.step_runs where run_id = $1`,
        [r1],
      );
      const xAt = BigInt(rows[0]!.us);
      expect(await cursor.read()).toEqual([]);

      // Meanwhile r2's step begins and succeeds, committed, after X's write.
      await begin(db.pool, r2, "only", 1);
      await complete(db.pool, r2, "only", 1, { ok: true });
      const seen = await cursor.read();
      expect(brief(seen)).toEqual([
        `${r2} only step_started 1`,
        `${r2} only step_succeeded 1`,
        `${r2} - run_succeeded -`,
      ]);
      expect(brief(await naive.read())).toEqual(brief(seen));
      expect(micros(seen[0]!.at)).toBeGreaterThan(xAt);
      // Read again and again until X's write is well behind the server's
      // clock (past the cursor's 1 s margin): the overlap is re-read, nothing
      // comes twice, and the edge stays below X's write while X is open.
      const deadline = Date.now() + 15_000;
      while ((await serverNowUs()) < xAt + 2_500_000n) {
        expect(await cursor.read()).toEqual([]);
        expect(cursor.state.lowerUs).toBeLessThanOrEqual(xAt);
        expect(Date.now()).toBeLessThan(deadline);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(await cursor.read()).toEqual([]);
      expect(cursor.state.lowerUs).toBeLessThanOrEqual(xAt);

      await x.query("commit");
      const late = await cursor.read();
      expect(brief(late)).toEqual([`${r1} only step_started 1`]);
      expect(late[0]!.at).toBe(isoFromUs(xAt));
      expect(micros(late[0]!.at)).toBeLessThan(micros(seen[0]!.at));
      expect(await cursor.read()).toEqual([]);
      // The naive cursor had moved past X's time: it never sees it.
      expect(await naive.read()).toEqual([]);
    } finally {
      await x.query("rollback").catch(() => {});
      x.release();
    }

    // Nothing in flight any more: the edge passes the reads and forgets them.
    const after = BigInt(Date.now()) * 1000n;
    await waitFor(async () => {
      expect(await cursor.read()).toEqual([]);
      return cursor.state.lowerUs > after && cursor.state.seen === 0;
    });
  });

  it("keeps a failed attempt's step_started once as it moves from the row to its event", async () => {
    await define(db.pool, "flaky", { steps: [{ name: "call", task: "t", attempts: 2 }] });
    await define(db.pool, "other", { steps: [{ name: "x", task: "t" }] });
    const run = await startRun(db.pool, "flaky");
    const cursor = await TransitionCursor.open(db.pool, { runId: String(run), since: "1 minute" });
    const byWorkflow = await TransitionCursor.open(db.pool, {
      workflow: "flaky",
      since: "1 minute",
    });
    await startRun(db.pool, "other");
    await begin(db.pool, run, "call", 1);
    expect(brief(await cursor.read())).toEqual([
      `${run} - run_started -`,
      `${run} call step_queued 1`,
      `${run} call step_started 1`,
    ]);
    await fail(db.pool, run, "call", 1);
    const retrying = await cursor.read();
    expect(brief(retrying)).toEqual([`${run} call step_retrying 1`, `${run} call step_queued 2`]);
    expect(retrying[0]!.detail).toMatch(/^call failed; attempt 2 at /);
    await begin(db.pool, run, "call", 2);
    await fail(db.pool, run, "call", 2);
    const failed = await cursor.read();
    expect(brief(failed)).toEqual([
      `${run} call step_started 2`,
      `${run} call step_failed 2`,
      `${run} - run_failed -`,
    ]);
    expect(failed.map((t) => t.detail)).toEqual([null, "call failed", "call failed"]);
    expect(await cursor.read()).toEqual([]);
    // The filters: the other workflow's run is in neither.
    expect(new Set((await byWorkflow.read()).map((t) => t.workflow))).toEqual(new Set(["flaky"]));
  });

  it("reads what rowflow.run_timeline shows, as a viewer too", async () => {
    await define(db.pool, "views", {
      steps: [
        { name: "a", task: "t" },
        { name: "b", task: "t", dependsOn: ["a"], attempts: 2 },
      ],
    });
    const ok = await startRun(db.pool, "views");
    await begin(db.pool, ok, "a", 1);
    await complete(db.pool, ok, "a", 1, {});
    await begin(db.pool, ok, "b", 1);
    await fail(db.pool, ok, "b", 1);
    await begin(db.pool, ok, "b", 2);
    await complete(db.pool, ok, "b", 2, {});
    const failed = await startRun(db.pool, "views");
    await begin(db.pool, failed, "a", 1);
    await fail(db.pool, failed, "a", 1, { retryable: false });
    await db.query("select rowflow.retry_run(run_id => $1, reason => 'again')", [failed]);
    const skipped = await startRun(db.pool, "views");
    await db.query("select rowflow.skip_step(run_id => $1, step => 'a', output => '{}')", [
      skipped,
    ]);
    const cancelled = await startRun(db.pool, "views");
    await db.query("select rowflow.cancel_run(run_id => $1, reason => 'no')", [cancelled]);
    // A run from before implied events: its ordinary-path events are stored.
    const stored = await startRun(db.pool, "views");
    await db.query(
      "insert into rowflow.events (run_id, type, at) values ($1, 'run_started', now())",
      [stored],
    );
    const runs = [ok, failed, skipped, cancelled, stored].map(String);

    const { rows: view } = await db.query<Record<string, unknown>>(
      `select run_id::text, step, type, attempt::int, id::text as event_id, data,
              to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at
       from rowflow.run_timeline where run_id = any ($1::bigint[])
         and audit_id is null -- operators' actions: in the view, not in tail`,
      [runs],
    );
    const ours = (await readTransitions(db.pool, { from: "-infinity" }))
      .filter((r) => runs.includes(r.run_id))
      .map(({ workflow, at_us, ...rest }) => {
        expect(workflow).toBe("views");
        expect(at_us).toMatch(/^\d+$/);
        return rest;
      });
    const sorted = (rows: unknown[]) =>
      rows.map((r) => JSON.stringify(r, Object.keys(r as object).sort())).sort();
    expect(ours.length).toBeGreaterThan(25);
    expect(sorted(ours)).toEqual(sorted(view));

    const viewer = await loginRole("viewer", { memberOf: ["rowflow_viewer"] });
    const asViewer = await readTransitions(viewer.pool, { from: "-infinity", runId: String(ok) });
    expect(asViewer).toEqual(
      (await readTransitions(db.pool, { from: "-infinity" })).filter(
        (r) => r.run_id === String(ok),
      ),
    );
    const cursor = await TransitionCursor.open(viewer.pool, { runId: String(ok), since: "1 hour" });
    expect(brief(await cursor.read())).toHaveLength(asViewer.length);
  });

  it("formats exact microseconds and short details", () => {
    expect(isoFromUs(1_767_225_600_123_456n)).toBe("2026-01-01T00:00:00.123456Z");
    expect(isoFromUs(1_767_225_600_000_001n)).toBe("2026-01-01T00:00:00.000001Z");
    expect(transitionDetail("step_cancelled", { reason: "run failed" })).toBe("run failed");
    expect(transitionDetail("step_skipped", { if: "$.input.big" })).toBe(
      "condition $.input.big was false",
    );
    expect(transitionDetail("run_retried", { mode: "failed", reason: "fixed" })).toBe(
      "mode failed: fixed",
    );
    expect(transitionDetail("step_succeeded", null)).toBeNull();
  });
});
