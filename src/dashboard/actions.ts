// The POST routes: each checks the guard (security.ts), then calls one SQL
// operation through the typed calls in src/db (retry_run, cancel_run,
// rerun_from, skip_step, signal, complete_task) and redirects back with its answer.
// A refusal by the SQL (42501 for a role that may not, RF0xx) is shown as
// the message, with the status 403 or 409.
import type { Context, Hono } from "hono";
import { getCookie } from "hono/cookie";

import type { Queryable } from "../db/queryable.js";
import { cancelRun } from "../db/runs/cancel-run.js";
import { rerunFrom, type RetryMode, retryRun, skipStep } from "../db/runs/operate.js";
import { sendSignal } from "../db/waits/signals.js";
import { completeTask } from "../db/waits/tasks.js";
import { answerFrom } from "./form.js";
import { query } from "./html.js";
import { taskForm } from "./queries.js";
import { type Guard, refusal } from "./security.js";

export const tokenCookie = "rowflow_dashboard_token";

export type Fields = Record<string, string>;

export async function guarded(
  c: Context,
  guard: Guard,
  act: (fields: Fields, runs: string[]) => Promise<{ back: string; message: string }>,
): Promise<Response> {
  const body = await c.req.parseBody({ all: true });
  const fields: Fields = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === "string") fields[k] = v;
  // The ticked runs of the list (name "run", repeated).
  const runs = [body.run ?? []].flat().filter((v): v is string => typeof v === "string");
  const bearer = c.req.header("authorization")?.replace(/^Bearer /, "");
  const refused = refusal(guard, {
    csrf: fields._csrf ?? c.req.header("x-csrf-token"),
    origin: c.req.header("origin"),
    host: c.req.header("host"),
    token: bearer ?? getCookie(c, tokenCookie),
  });
  if (refused !== null) return c.text(`refused: ${refused}\n`, 403);
  try {
    const { back, message } = await act(fields, runs);
    const sep = back.includes("?") ? "&" : "?";
    return c.redirect(`${back}${sep}msg=${encodeURIComponent(message)}`, 303);
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    const status = code === "42501" ? 403 : 409;
    return c.text(
      `refused by the database: ${message ?? String(error)}${code ? ` [${code}]` : ""}\n`,
      status,
    );
  }
}

export function registerActions(app: Hono, db: Queryable, guard: Guard): void {
  app.post("/runs/:id{[0-9]+}/retry", (c) =>
    guarded(c, guard, async (f) => {
      const id = c.req.param("id");
      const mode = (f.mode === "failed_and_downstream" ? f.mode : "failed") satisfies RetryMode;
      const r = await retryRun(db, id, mode, "dashboard");
      return {
        back: `/runs/${id}`,
        message: r.retried
          ? `retried: ${(r.queued ?? []).join(", ") || "queued"}`
          : `not retried (${r.status})`,
      };
    }),
  );
  app.post("/runs/:id{[0-9]+}/cancel", (c) =>
    guarded(c, guard, async () => {
      const id = c.req.param("id");
      const done = await cancelRun(db, { runId: id, reason: "dashboard" });
      return {
        back: `/runs/${id}`,
        message: done ? "cancelled" : "not cancelled: the run had finished",
      };
    }),
  );
  app.post("/runs/:id{[0-9]+}/skip", (c) =>
    guarded(c, guard, async (f) => {
      const id = c.req.param("id");
      const r = await skipStep(db, {
        runId: id,
        step: f.step ?? "",
        output: null,
        reason: "dashboard",
      });
      return {
        back: `/runs/${id}`,
        message: r.skipped ? `skipped ${r.step}` : `${r.step} was already ${r.status}`,
      };
    }),
  );
  app.post("/runs/:id{[0-9]+}/rerun", (c) =>
    guarded(c, guard, async (f) => {
      const r = await rerunFrom(db, c.req.param("id"), f.step ?? "", "dashboard");
      return { back: `/runs/${r.run}`, message: `rerun of ${r.rerunOf} from ${r.step}` };
    }),
  );
  app.post("/runs/:id{[0-9]+}/signal", (c) =>
    guarded(c, guard, async (f) => {
      const id = c.req.param("id");
      const payload: unknown = f.payload ? JSON.parse(f.payload) : null;
      const r = await sendSignal(db, id, f.name ?? "", payload);
      return { back: `/runs/${id}`, message: `signal ${f.name}: ${r.status}` };
    }),
  );
  app.post("/tasks/:id{[0-9]+}/complete", (c) =>
    guarded(c, guard, async (f) => {
      const id = c.req.param("id");
      const answer = answerFrom(await taskForm(db, id), f);
      const r = await completeTask(db, id, { by: f.by ?? "", answer });
      return {
        back: `/inbox${query({ assignee: f.by })}`,
        message: `task ${r.task} done by ${r.by}; run ${r.run} ${r.runStatus}`,
      };
    }),
  );
}
