// Bulk actions of the Runs page: on the runs a filter selects
// (rowflow.retry_runs / rowflow.cancel_runs, at most 1,000 a click) or on
// the runs ticked in the list (rowflow.retry_run / rowflow.cancel_run each).
// Guarded like every action (actions.ts).
import type { Hono } from "hono";

import type { Queryable } from "../db/queryable.js";
import { cancelRun } from "../db/runs/cancel-run.js";
import { cancelRuns, retryRun, retryRuns, type RunFilter } from "../db/runs/operate.js";
import { type Fields, guarded } from "./actions.js";
import { query } from "./html.js";
import type { Guard } from "./security.js";

/** The filter's times as Postgres reads them (the same reading as the list's). */
async function filterOf(db: Queryable, f: Fields, statuses: string[]): Promise<RunFilter> {
  // The SQL bulk operations cannot filter by input: refuse rather than act on more runs.
  if (f.q) throw new Error("an input search (q) cannot select runs for a bulk action");
  const { rows } = await db.query<{ since: Date | null; until: Date | null }>(
    "select $1::timestamptz as since, $2::timestamptz as until",
    [f.since || null, f.until || null],
  );
  return {
    workflow: f.workflow || undefined,
    statuses,
    since: rows[0]?.since ?? undefined,
    before: rows[0]?.until ?? undefined,
    reason: "dashboard",
  };
}

const back = (f: Fields) =>
  `/${query({ workflow: f.workflow, status: f.status, since: f.since, until: f.until, q: f.q })}`;

export function registerBulkActions(app: Hono, db: Queryable, guard: Guard): void {
  app.post("/runs/retry-matching", (c) =>
    guarded(c, guard, async (f) => {
      const statuses = f.status === "cancelled" ? ["cancelled"] : ["failed"];
      const r = await retryRuns(db, await filterOf(db, f, statuses), "failed");
      return { back: back(f), message: `retry: ${r.matched} matched, ${r.retried} retried` };
    }),
  );
  app.post("/runs/cancel-matching", (c) =>
    guarded(c, guard, async (f) => {
      const statuses = ["queued", "running"].includes(f.status ?? "")
        ? [f.status!]
        : ["queued", "running"];
      const r = await cancelRuns(db, await filterOf(db, f, statuses));
      return { back: back(f), message: `cancel: ${r.matched} matched, ${r.cancelled} cancelled` };
    }),
  );
  app.post("/runs/selected", (c) =>
    guarded(c, guard, async (f, all) => {
      const ids = all.filter((id) => /^\d+$/.test(id));
      let done = 0;
      for (const id of ids) {
        if (f.do === "cancel")
          done += (await cancelRun(db, { runId: id, reason: "dashboard" })) ? 1 : 0;
        else done += (await retryRun(db, id, "failed", "dashboard")).retried ? 1 : 0;
      }
      const verb = f.do === "cancel" ? "cancelled" : "retried";
      return { back: back(f), message: `${done} of ${ids.length} selected runs ${verb}` };
    }),
  );
}
