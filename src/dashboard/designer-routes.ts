// The designer's POST routes, all JSON in and out, all with the page's CSRF
// token (x-csrf-token) and a same-origin check:
// - /designer/check and /designer/export only read (validateSpec, dagre,
//   the migration text), so a viewer may use them;
// - /designer/save calls rowflow.define_workflow, with the refusals of every
//   other action (security.ts: operator role, token beyond localhost) and
//   the database's own (42501 without EXECUTE on define_workflow, RF0xx).
import type { Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { getCookie } from "hono/cookie";

import type { Queryable } from "../db/queryable.js";
import { defineWorkflow } from "../db/workflows/define-workflow.js";
import { renderWorkflowMigration } from "../triggers/render-migration.js";
import { tokenCookie } from "./actions.js";
import { checkDesign } from "./designer-check.js";
import { csrfRefusal, type Guard, refusal } from "./security.js";

interface DesignBody {
  name?: unknown;
  spec?: unknown;
  attach?: { table?: unknown; events?: unknown; when?: unknown };
}

const text = (v: unknown) => (typeof v === "string" ? v : undefined);

async function readBody(c: Context): Promise<DesignBody | undefined> {
  try {
    const body: unknown = await c.req.json();
    return typeof body === "object" && body !== null ? (body as DesignBody) : undefined;
  } catch {
    return undefined;
  }
}

function facts(c: Context) {
  return {
    csrf: c.req.header("x-csrf-token"),
    origin: c.req.header("origin"),
    host: c.req.header("host"),
    token: c.req.header("authorization")?.replace(/^Bearer /, "") ?? getCookie(c, tokenCookie),
  };
}

export function registerDesignerRoutes(app: Hono, db: Queryable, guard: Guard): void {
  // A spec may be 1 MiB of JSON (MAX_SPEC_BYTES); room for the rest.
  app.use("/designer/*", bodyLimit({ maxSize: 2 * 1024 * 1024 }));

  app.post("/designer/check", async (c) => {
    const refused = csrfRefusal(guard, facts(c));
    if (refused !== null) return c.json({ error: `refused: ${refused}` }, 403);
    const body = await readBody(c);
    if (body === undefined) return c.json({ error: "the body is not a JSON object" }, 400);
    return c.json(checkDesign(text(body.name), body.spec));
  });

  app.post("/designer/export", async (c) => {
    const refused = csrfRefusal(guard, facts(c));
    if (refused !== null) return c.json({ error: `refused: ${refused}` }, 403);
    const body = await readBody(c);
    const name = text(body?.name) ?? "";
    const check = checkDesign(name, body?.spec);
    if (name === "" || !check.ok) {
      return c.json(
        { error: "fix the problems first (and give the workflow a name)", ...check },
        422,
      );
    }
    const table = text(body?.attach?.table)?.trim() ?? "";
    const events = Array.isArray(body?.attach?.events)
      ? body.attach.events.filter((e): e is string => typeof e === "string")
      : [];
    const when = text(body?.attach?.when)?.trim();
    const attachments = table === "" ? [] : [{ table, events, ...(when ? { when } : {}) }];
    const sql = renderWorkflowMigration([{ name, spec: body?.spec as object, attachments }], {
      name: `define_${name.replace(/-/g, "_")}`,
      generatedAt: new Date(),
      source: "designer",
    });
    return c.json({ sql });
  });

  app.post("/designer/save", async (c) => {
    const refused = refusal(guard, facts(c));
    if (refused !== null) return c.json({ error: `refused: ${refused}` }, 403);
    const body = await readBody(c);
    const name = text(body?.name) ?? "";
    const check = checkDesign(name, body?.spec);
    if (name === "" || !check.ok) {
      return c.json(
        { error: "fix the problems first (and give the workflow a name)", ...check },
        422,
      );
    }
    try {
      const version = await defineWorkflow(db, { name, spec: body?.spec as object });
      return c.json({ name, version });
    } catch (error) {
      const { code, message } = error as { code?: string; message?: string };
      return c.json(
        { error: `refused by the database: ${message ?? String(error)}`, code: code ?? null },
        code === "42501" ? 403 : 409,
      );
    }
  });
}
