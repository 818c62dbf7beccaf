// The privilege matrix (docs/security.md): for each role — app, worker,
// operator, viewer (logins in rowflow's group roles), a fresh login, PUBLIC,
// and a non-superuser table owner with an attachment — and each rowflow
// function, table and view, the privilege it has, asserted exactly against
// the decisions below. A new function or table without a decision here fails
// the test; so does an object whose grants (its `select rowflow._allow(…)`
// in sql/schema/) differ from its decision.
import { beforeAll, describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { type LoginRole, useLoginRoles } from "../../helpers/roles.js";
import { define } from "../support.js";

const db = useTestDatabase();
const loginRole = useLoginRoles(db);

type Kind = "app" | "worker" | "operator" | "viewer";
const kinds: readonly Kind[] = ["app", "worker", "operator", "viewer"];

/**
 * Who may call each public function (EXECUTE). Functions whose name starts
 * with "_" are internal: the owner's only, except those listed here too.
 */
const functions: Record<string, readonly Kind[]> = {
  // Starting and following runs.
  "start_run(text,jsonb,text,integer,timestamp with time zone,jsonb)": ["app", "operator"],
  "start_runs(text,jsonb[],text[],integer,timestamp with time zone,jsonb)": ["app", "operator"],
  "cancel_run(bigint,text,timestamp with time zone,boolean)": ["app", "operator"],
  "pending_runs()": ["app", "operator", "viewer"],
  "mark_waiting(text,text,interval,timestamp with time zone)": kinds,
  "unmark_waiting(text,text)": kinds,
  // The gate and the worker registry.
  "claim_runs(text,integer,integer,timestamp with time zone,text)": ["worker", "operator"],
  "begin_step(bigint,text,integer,text,timestamp with time zone)": ["worker"],
  "begin_steps(bigint[],text[],integer[],text,timestamp with time zone,boolean,text)": ["worker"],
  "complete_step(bigint,text,integer,jsonb,timestamp with time zone,integer,text,boolean,text,text)":
    ["worker"],
  "complete_steps(bigint[],text[],integer[],jsonb[],integer[],text,timestamp with time zone,boolean,integer,bigint[],text[],integer[],text[],text)":
    ["worker"],
  "fail_step(bigint,text,integer,jsonb,boolean,timestamp with time zone,timestamp with time zone,text)":
    ["worker"],
  "fail_lost_attempt(bigint,text,integer,text,timestamp with time zone)": ["worker"],
  "register_worker(text,text,integer,integer,text[],timestamp with time zone,text)": ["worker"],
  "heartbeat_worker(text,timestamp with time zone,text)": ["worker"],
  "unregister_worker(text,text)": ["worker"],
  "release_leases(text,text[],interval,timestamp with time zone,text)": ["worker"],
  "release_dead_workers(interval,timestamp with time zone)": ["worker", "operator"],
  "hold_worker_lock(text,text)": ["worker"],
  "disconnected_workers()": ["worker", "operator"],
  // The owner's: defining and attaching (a DBA may grant them further).
  "define_workflow(text,jsonb,name)": [],
  "attach(regclass,text,text[],text,text,text,text[],text[],name,text,boolean)": [],
  "attach(text,text,text[],text,text,text,text[],text[],name,text,text,boolean)": [],
  // Reads rowflow.visible_runs as its caller: each role sees the runs it may see.
  "runs_for(regclass,text[])": ["app", "operator", "viewer"],
  "detach(regclass,text,name)": [],
  "detach(text,text,name,text)": [],
  // Internal functions that answer every role a question.
  "_may(text,name)": kinds,
  // runs_for's key normaliser: runs_for runs as its caller (catalog reads only).
  "_source_key(regclass,text[])": ["app", "operator", "viewer"],
  "pause_workflow(text,text,timestamp with time zone)": ["operator"],
  "resume_workflow(text,text,timestamp with time zone)": ["operator"],
  "retry_run(bigint,text,text,timestamp with time zone)": ["operator"],
  "skip_step(bigint,text,jsonb,text,timestamp with time zone)": ["operator"],
  "rerun_from(bigint,text,text,timestamp with time zone)": ["operator"],
  "retry_runs(text,text[],timestamp with time zone,timestamp with time zone,text,text,integer,timestamp with time zone)":
    ["operator"],
  "cancel_runs(text,text[],timestamp with time zone,timestamp with time zone,text,integer,timestamp with time zone,boolean)":
    ["operator"],
  "purge_runs(interval,text[],text,integer,text,timestamp with time zone)": ["operator"],
  "explain_run(bigint,timestamp with time zone,interval)": ["operator", "viewer"],
  // Batch summary over rowflow.visible_runs, as its caller (like runs_for): an app counts its own runs.
  "run_counts(text,timestamp with time zone)": ["app", "operator", "viewer"],
  // The Prometheus endpoints' one query (worker and dashboard): it reads graphile's job tables, changes nothing.
  "metrics_snapshot(interval,timestamp with time zone)": ["worker", "operator", "viewer"],
  "set_retention(text,interval,text,timestamp with time zone)": ["operator"],
  "apply_retention(text,interval,integer,integer,timestamp with time zone)": ["worker", "operator"],
  // Schedules: operators define them (like pause_workflow), workers fire their ticks.
  "define_schedule(text,text,text,jsonb,text,text,timestamp with time zone)": ["operator"],
  "drop_schedule(text,text,timestamp with time zone)": ["operator"],
  "pause_schedule(text,text,timestamp with time zone)": ["operator"],
  "resume_schedule(text,text,timestamp with time zone)": ["operator"],
  "fire_schedule(text,timestamp with time zone,timestamp with time zone)": ["worker", "operator"],
  // Waits: a worker's rowflow:wait job arms a step; apps signal runs (from
  // their own transactions) and act for their users on human tasks.
  "arm_step(bigint,text,integer,text,timestamp with time zone)": ["worker"],
  // Child workflows: a worker's rowflow:child job settles a parent step
  // (the tg_ trigger functions are outside the matrix, as every tg_ is).
  "settle_child(bigint,text,integer,text,timestamp with time zone)": ["worker"],
  "signal(bigint,text,jsonb,timestamp with time zone)": ["app", "worker", "operator"],
  "complete_task(bigint,text,jsonb,text[],boolean,timestamp with time zone)": ["app", "operator"],
  "claim_task(bigint,text,text[],timestamp with time zone)": ["app", "operator"],
  "reassign_task(bigint,text,text,text,text[],timestamp with time zone)": ["app", "operator"],
  // Reads rowflow.tasks as its caller.
  "inbox(text,text[])": ["app", "operator", "viewer"],
  // Failure alerts: the workers with a webhook lease and settle them; an
  // operator sends given-up ones again. The webhook URL is never in the
  // database, so no role can read it.
  "claim_alerts(text[],integer,integer,timestamp with time zone)": ["worker"],
  "record_alert_attempt(bigint,uuid,integer,text,integer,timestamp with time zone,text,timestamp with time zone)":
    ["worker"],
  "retry_alerts(bigint[],text,timestamp with time zone)": ["operator"],
};

/** Who may read each table and view (SELECT); nobody but the owner writes any. */
const relations: Record<string, readonly Kind[]> = {
  migrations: kinds, // the worker and the client check the schema version
  roles: ["viewer"],
  secrets: [],
  workflows: ["viewer", "worker"], // a worker checks its definitions
  workflow_versions: ["viewer", "worker"],
  workflow_steps: ["viewer"],
  runs: ["viewer"],
  step_runs: ["viewer"],
  step_maps: ["viewer"], // a map step's element counts (run_steps shows them)
  events: ["viewer"],
  workers: ["viewer"],
  waiters: ["viewer"],
  table_attachments: ["viewer"],
  audit: ["viewer"],
  maintenance: ["viewer"],
  schedules: ["viewer", "worker"], // the workers compute the ticks due
  step_waits: ["viewer"],
  signals: ["viewer"],
  human_tasks: ["viewer"],
  // What runs.error already shows the viewer; no URL, no secret.
  alerts: ["viewer"],
  alert_attempts: ["viewer"],
  undelivered_alerts: ["viewer"],
  tasks: ["app", "operator", "viewer"], // an app's inbox page lists every task
  run_steps: ["viewer"],
  run_timeline: ["viewer"],
  worker_status: ["viewer"],
  attachments: ["viewer"],
  visible_runs: ["app", "operator", "viewer"], // each sees its own rows
  visible_run_steps: ["app", "operator", "viewer"],
};

/**
 * SECURITY DEFINER entry points whose role check is EXECUTE alone, or a
 * check other than rowflow._require (the rest call _require first).
 */
const definerChecks: Record<string, string> = {
  start_run: "EXECUTE: apps start runs from SECURITY DEFINER functions of their own",
  start_runs: "EXECUTE, as start_run",
  define_workflow: "the caller acts for `owner`, and redefines only its own workflows",
  attach: "the caller owns the table (rowflow._attachable_table)",
  detach: "the caller owns the table (rowflow._attachable_table)",
  _may: "answers a question, changes nothing",
  _row_wait_fired:
    "a trigger of tables waitFor steps wait on: nobody may call it; it settles only steps whose condition (run as its owner) a row now meets",
};

interface Role {
  label: string;
  name: string; // a role name, or "public"
  /** The kinds whose privileges it has (operator includes viewer). */
  has: readonly Kind[];
}

let roles: Role[];
let tableOwner: LoginRole;

beforeAll(async () => {
  const members: Role[] = [];
  for (const kind of kinds) {
    const login = await loginRole(kind, { memberOf: [`rowflow_${kind}`] });
    members.push({
      label: kind,
      name: login.name,
      has: kind === "operator" ? ["operator", "viewer"] : [kind],
    });
  }
  const fresh = await loginRole("fresh");
  tableOwner = await loginRole("tblowner");
  await db.query(`create schema biz authorization ${tableOwner.name}`);
  await tableOwner.query("create table biz.things (id bigint primary key)");
  await define(db.pool, "things", { steps: [{ name: "a", task: "t" }] });
  await db.query("select rowflow.attach('biz.things', 'things')");
  roles = [
    ...members,
    { label: "fresh role", name: fresh.name, has: [] },
    { label: "PUBLIC", name: "public", has: [] },
    { label: "table owner", name: tableOwner.name, has: [] },
  ];
});

/** Every function of rowflow but the generated attachment functions, by signature without the schema. */
async function rowflowFunctions() {
  const { rows } = await db.query<{
    oid: number;
    sig: string;
    name: string;
    definer: boolean;
    config: string[] | null;
    owned: boolean;
    src: string;
  }>(
    `select p.oid::int, substr(p.oid::regprocedure::text, length('rowflow.') + 1) as sig, p.proname as name,
            p.prosecdef as definer, p.proconfig as config, p.prosrc as src,
            p.proowner = n.nspowner as owned
     from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname = 'rowflow' and p.proname !~ '^(tg|st)_'
     order by 2`,
  );
  return rows;
}

/** Whether `role` (a name or "public") holds `privilege` on the object, by its ACL. */
async function holds(role: string, kind: "function" | "table", oid: number, privilege: string) {
  if (role !== "public") {
    const fn = kind === "function" ? "has_function_privilege" : "has_table_privilege";
    const { rows } = await db.query<{ ok: boolean }>(`select ${fn}($1, $2::oid, $3) as ok`, [
      role,
      oid,
      privilege,
    ]);
    return rows[0]!.ok;
  }
  const { rows } = await db.query<{ ok: boolean }>(
    `select exists (select 1 from aclexplode(coalesce(
       (select ${kind === "function" ? "proacl" : "relacl"} from ${kind === "function" ? "pg_proc" : "pg_class"} where oid = $1::oid),
       acldefault($2, (select ${kind === "function" ? "proowner" : "relowner"} from ${kind === "function" ? "pg_proc" : "pg_class"} where oid = $1::oid))))
       as a where a.grantee = 0 and a.privilege_type = $3) as ok`,
    [oid, kind === "function" ? "f" : "r", privilege],
  );
  return rows[0]!.ok;
}

describe("the privilege matrix", () => {
  it("every function has a decision, and each role's EXECUTE is exactly it", async () => {
    const fns = await rowflowFunctions();
    const undecided = fns.filter((f) => !f.name.startsWith("_") && !(f.sig in functions));
    expect(
      undecided.map((f) => f.sig),
      "public functions without a decision",
    ).toEqual([]);
    const gone = Object.keys(functions).filter((sig) => !fns.some((f) => f.sig === sig));
    expect(gone, "decisions for functions that no longer exist").toEqual([]);
    const actual: string[] = [];
    const expected: string[] = [];
    for (const f of fns) {
      const decision = functions[f.sig] ?? [];
      for (const role of roles) {
        const may = await holds(role.name, "function", f.oid, "EXECUTE");
        actual.push(`${role.label} ${may ? "may" : "may not"} call ${f.sig}`);
        const allowed = decision.some((k) => role.has.includes(k));
        expected.push(`${role.label} ${allowed ? "may" : "may not"} call ${f.sig}`);
      }
    }
    expect(actual).toEqual(expected);
  });

  it("every table and view has a decision: SELECT exactly as decided, no writes for anyone", async () => {
    const { rows: rels } = await db.query<{ oid: number; name: string }>(
      `select c.oid::int, c.relname as name from pg_class c
       where c.relnamespace = 'rowflow'::regnamespace and c.relkind in ('r', 'v', 'p', 'm')
       order by c.relname`,
    );
    expect(
      rels.map((r) => r.name).filter((n) => !(n in relations)),
      "tables and views without a decision",
    ).toEqual([]);
    expect(Object.keys(relations).filter((n) => !rels.some((r) => r.name === n))).toEqual([]);
    const actual: string[] = [];
    const expected: string[] = [];
    for (const rel of rels) {
      for (const role of roles) {
        for (const privilege of [
          "SELECT",
          "INSERT",
          "UPDATE",
          "DELETE",
          "TRUNCATE",
          "REFERENCES",
          "TRIGGER",
        ]) {
          const may = await holds(role.name, "table", rel.oid, privilege);
          actual.push(`${role.label} ${may ? "has" : "lacks"} ${privilege} on ${rel.name}`);
          const allowed =
            privilege === "SELECT" && relations[rel.name]!.some((k) => role.has.includes(k));
          expected.push(`${role.label} ${allowed ? "has" : "lacks"} ${privilege} on ${rel.name}`);
        }
      }
    }
    expect(actual).toEqual(expected);
  });

  it("schema rowflow: USAGE for rowflow's roles and owners of attached tables, CREATE for nobody", async () => {
    const actual: string[] = [];
    for (const role of roles) {
      for (const privilege of ["USAGE", "CREATE"]) {
        const { rows } =
          role.name === "public"
            ? await db.query<{ ok: boolean }>(
                `select exists (select 1 from aclexplode((select nspacl from pg_namespace where nspname = 'rowflow')) a
                                where a.grantee = 0 and a.privilege_type = $1) as ok`,
                [privilege],
              )
            : await db.query<{ ok: boolean }>(
                "select has_schema_privilege($1, 'rowflow', $2) as ok",
                [role.name, privilege],
              );
        if (rows[0]!.ok) actual.push(`${role.label}: ${privilege}`);
      }
    }
    expect(actual).toEqual([
      "app: USAGE",
      "worker: USAGE",
      "operator: USAGE",
      "viewer: USAGE",
      "table owner: USAGE", // to call its attachment's start function
    ]);
  });

  it("SECURITY DEFINER: owned by rowflow's owner, search_path pinned, and a role check", async () => {
    const fns = (await rowflowFunctions()).filter((f) => f.definer);
    expect(fns.length).toBeGreaterThan(20);
    const problems: string[] = [];
    for (const f of fns) {
      if (!f.owned) problems.push(`${f.sig}: not owned by rowflow's owner`);
      if (!(f.config ?? []).includes('search_path=""'))
        problems.push(`${f.sig}: search_path not pinned`);
      const checked =
        /rowflow\._require\(/.test(f.src) ||
        f.name in definerChecks ||
        // One-call forms that call their checked set-based function.
        /rowflow\.(begin_steps|complete_steps)\(/.test(f.src);
      if (!checked) problems.push(`${f.sig}: no role check`);
    }
    expect(problems).toEqual([]);
    // Every function (definer or not) pins its search_path (invariant 6).
    const unpinned = (await rowflowFunctions()).filter(
      (f) => !(f.config ?? []).includes('search_path=""'),
    );
    expect(unpinned.map((f) => f.sig)).toEqual([]);
  });
});
