// The dashboard's routes (hono): the pages, their live feed (GET /events,
// server-sent events), the assets, /login for the token, and the actions
// (actions.ts).
import { Hono } from "hono";
import { setCookie } from "hono/cookie";
import { streamSSE } from "hono/streaming";

import type { Queryable } from "../db/queryable.js";
import { registerActions, tokenCookie } from "./actions.js";
import { css, js } from "./assets.js";
import { registerBulkActions } from "./bulk-actions.js";
import { designerCss, designerJs } from "./designer-assets.js";
import { registerDesignerRoutes } from "./designer-routes.js";
import type { PageContext } from "./html.js";
import type { LiveFeed } from "./live.js";
import { registerMetricsRoute } from "./metrics-route.js";
import { designerPage } from "./pages/designer.js";
import { inboxPage } from "./pages/inbox.js";
import { runPage } from "./pages/run.js";
import { runsPage } from "./pages/runs.js";
import { workflowsPage } from "./pages/workflows.js";
import { type Guard, same } from "./security.js";

const optional = (value: string | undefined) =>
  value === undefined || value === "" ? undefined : value;

/** `db` serves the pages (a viewer's connection); `operator` the actions. */
export function createApp(db: Queryable, guard: Guard, feed: LiveFeed, operator: Queryable): Hono {
  const app = new Hono();
  const ctx = (title: string, live: string | null = null): PageContext => ({
    title,
    csrf: guard.csrf,
    canAct: guard.actionsOff === null,
    actionsOff: guard.actionsOff,
    live,
  });
  app.use(async (c, next) => {
    await next();
    c.header("x-frame-options", "DENY");
    c.header("x-content-type-options", "nosniff");
    c.header("referrer-policy", "same-origin");
  });
  app.onError((error, c) => {
    const { code, message } = error as { code?: string; message?: string };
    // Bad filter text (a time Postgres cannot read) is the request's mistake.
    const status = code?.startsWith("22") ? 400 : 500;
    return c.text(`${message ?? String(error)}${code ? ` [${code}]` : ""}\n`, status);
  });

  app.get("/assets/dashboard.css", (c) => c.body(css, 200, { "content-type": "text/css" }));
  app.get("/assets/dashboard.js", (c) => c.body(js, 200, { "content-type": "text/javascript" }));
  app.get("/assets/designer.css", (c) => c.body(designerCss, 200, { "content-type": "text/css" }));
  app.get("/assets/designer.js", (c) =>
    c.body(designerJs, 200, { "content-type": "text/javascript" }),
  );
  app.get("/", async (c) => {
    const q = (k: string) => optional(c.req.query(k));
    const before = q("before");
    const filter = {
      workflow: q("workflow"),
      status: q("status"),
      since: q("since"),
      until: q("until"),
      q: q("q"),
      before: before && /^\d+$/.test(before) ? before : undefined,
      all: c.req.query("scan") === "all",
    };
    return c.html((await runsPage(db, ctx("Runs", "*"), filter)).text);
  });
  app.get("/runs/:id{[0-9]+}", async (c) => {
    const page = await runPage(
      db,
      ctx(`Run ${c.req.param("id")}`),
      c.req.param("id"),
      c.req.query("msg"),
    );
    return page === undefined ? c.text("no such run\n", 404) : c.html(page.text);
  });
  app.get("/inbox", async (c) =>
    c.html(
      (await inboxPage(db, ctx("Inbox"), optional(c.req.query("assignee")), c.req.query("msg")))
        .text,
    ),
  );
  app.get("/workflows", async (c) =>
    c.html((await workflowsPage(db, ctx("Workflows"), c.req.query("range"))).text),
  );
  app.get("/designer", async (c) => {
    const page = await designerPage(db, ctx("Designer"), optional(c.req.query("workflow")));
    return page === undefined ? c.text("no such workflow\n", 404) : c.html(page.text);
  });
  app.get("/login", (c) => {
    // Opened once with the token (the URL `rowflow dashboard` prints); kept in an HttpOnly cookie.
    if (guard.token === null || !same(c.req.query("token"), guard.token))
      return c.text("wrong token\n", 403);
    setCookie(c, tokenCookie, guard.token, { httpOnly: true, sameSite: "Strict", path: "/" });
    return c.redirect("/", 303);
  });
  app.get("/events", (c) => {
    const run = c.req.query("run") ?? "*";
    return streamSSE(c, async (stream) => {
      let unsubscribe = () => {};
      const done = new Promise<void>((resolve) => {
        stream.onAbort(resolve);
      });
      unsubscribe = feed.subscribe((t) => {
        if (run !== "*" && t.runId !== run) return;
        void stream.writeSSE({
          event: "change",
          data: JSON.stringify({ run: t.runId, step: t.step, type: t.type }),
        });
      });
      await stream.writeSSE({ event: "hello", data: "{}" });
      const beat = setInterval(() => void stream.write(": keep-alive\n\n"), 15_000);
      await done;
      clearInterval(beat);
      unsubscribe();
    });
  });
  registerActions(app, operator, guard);
  registerBulkActions(app, operator, guard);
  // Save (define_workflow) goes through the operator's connection; check and export read nothing.
  registerDesignerRoutes(app, operator, guard);
  registerMetricsRoute(app, db);
  return app;
}
