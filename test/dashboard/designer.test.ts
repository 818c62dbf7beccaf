// The designer's routes over HTTP (designer-routes.ts): /designer/check
// answers the RF code rowflow.define_workflow raises for the same spec, with
// the cycle and the layout; check and export need the CSRF token but no
// operator; save needs an operator and defines a version; the exported
// migration runs and attaches.
import { afterEach, expect, it } from "vitest";

import { type Dashboard, startDashboard } from "../../src/dashboard/start-dashboard.js";
import { useTestDatabase } from "../helpers/db.js";
import { useLoginRoles } from "../helpers/roles.js";

const db = useTestDatabase();
const loginRole = useLoginRoles(db);
let dashboard: Dashboard | undefined;
afterEach(async () => {
  await dashboard?.close();
  dashboard = undefined;
});

async function open(connectionString: string) {
  dashboard = await startDashboard({
    connectionString,
    operatorConnectionString: connectionString,
    port: 0,
  });
  const page = await (await fetch(`${dashboard.url}designer`)).text();
  const csrf = /name="csrf-token" content="([0-9a-f]+)"/.exec(page)![1]!;
  const base = dashboard.url;
  return async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}designer/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-csrf-token": csrf, ...headers },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
}

async function sqlCode(spec: unknown): Promise<string | undefined> {
  try {
    await db.query("select rowflow.define_workflow('probe', $1::jsonb)", [JSON.stringify(spec)]);
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

const t = (name: string, extra: object = {}) => ({ name, task: name, ...extra });
const cases: [string, unknown][] = [
  ["empty", { steps: [] }],
  [
    "cycle",
    {
      steps: [
        t("a", { dependsOn: ["c"] }),
        t("b", { dependsOn: ["a"] }),
        t("c", { dependsOn: ["b"] }),
      ],
    },
  ],
  ["unknown dependency", { steps: [t("a", { dependsOn: ["x"] })] }],
  ["self dependency", { steps: [t("a", { dependsOn: ["a"] })] }],
  ["duplicate", { steps: [t("a"), t("a")] }],
  ["attempts", { steps: [t("a", { attempts: 0 })] }],
  ["unknown option", { steps: [t("a", { retries: 2 })] }],
  ["backoff", { steps: [t("a", { backoff: { base: "1 minute", max: "1 second" } })] }],
  ["bad step name", { steps: [t("A")] }],
  ["no task", { steps: [{ name: "a" }] }],
];

it("answers the RF code define_workflow raises, the cycle SQL names, and a layout", async () => {
  const post = await open(db.url);
  for (const [label, spec] of cases) {
    const { status, body } = await post("check", { name: "probe", spec });
    expect(status, label).toBe(200);
    const problems = body.problems as { code: string; message: string }[];
    expect(problems[0]?.code, label).toBe(await sqlCode(spec));
    expect(body.ok, label).toBe(false);
  }
  const cycle = await post("check", { spec: cases[1]![1] });
  expect(cycle.body.cycle).toEqual(["a", "b", "c", "a"]);
  const ok = await post("check", {
    name: "probe",
    spec: { steps: [t("a"), t("b", { dependsOn: ["a"] })] },
  });
  expect(ok.body).toMatchObject({ ok: true, problems: [], cycle: null });
  const layout = ok.body.layout as {
    nodes: Record<string, { x: number; y: number }>;
    edges: { from: string; to: string }[];
  };
  expect(Object.keys(layout.nodes)).toEqual(["0", "1"]);
  expect(layout.nodes["1"]!.x).toBeGreaterThan(layout.nodes["0"]!.x);
  expect(layout.edges.map((e) => [e.from, e.to])).toEqual([["0", "1"]]);
  // The name it is defined under is checked as define_workflow checks it.
  const named = await post("check", { name: "Bad Name", spec: { steps: [t("a")] } });
  expect((named.body.problems as { code: string }[])[0]?.code).toBe("RF004");
});

it("needs the CSRF token and the same origin for every POST, even a check", async () => {
  const post = await open(db.url);
  const spec = { steps: [t("a")] };
  const bare = await post("check", { spec }, { "x-csrf-token": "" });
  expect(bare.status).toBe(403);
  expect(bare.body.error).toContain("CSRF");
  expect((await post("check", { spec }, { origin: "http://evil.test" })).status).toBe(403);
  expect((await post("save", { name: "x", spec }, { "x-csrf-token": "0".repeat(48) })).status).toBe(
    403,
  );
  expect((await post("export", { name: "x", spec }, { "x-csrf-token": "" })).status).toBe(403);
  const { rows } = await db.query("select 1 from rowflow.workflows where name = 'x'");
  expect(rows).toHaveLength(0);
});

it("saves a new version as an operator, refuses an invalid spec, and exports a migration that runs", async () => {
  const post = await open(db.url);
  const spec = { steps: [t("a"), t("b", { dependsOn: ["a"], attempts: 2 })] };
  expect(await post("save", { name: "made", spec })).toEqual({
    status: 200,
    body: { name: "made", version: 1 },
  });
  // Unchanged spec: the same version, as define_workflow answers.
  expect((await post("save", { name: "made", spec })).body.version).toBe(1);
  const changed = { steps: [...spec.steps, t("c", { dependsOn: ["b"] })] };
  expect((await post("save", { name: "made", spec: changed })).body.version).toBe(2);
  const bad = await post("save", { name: "made", spec: { steps: [t("a", { dependsOn: ["a"] })] } });
  expect(bad.status).toBe(422);
  expect((bad.body.problems as { code: string }[])[0]?.code).toBe("RF007");
  expect((await post("save", { name: "", spec })).status).toBe(422);

  await db.query("create table public.orders (id int primary key, status text)");
  const exported = await post("export", {
    name: "from-export",
    spec,
    attach: { table: "public.orders", events: ["insert"], when: "new.status = 'paid'" },
  });
  expect(exported.status).toBe(200);
  const sql = exported.body.sql as string;
  expect(sql).toContain("-- Exported by the rowflow dashboard's designer at ");
  expect(sql).toContain(
    `select rowflow.attach('public.orders', 'from-export', events => array['insert']::text[], "when" => 'new.status = ''paid''');`,
  );
  await db.query(sql);
  const { rows } = await db.query<{ workflow: string; when: string }>(
    `select workflow, when_sql as when from rowflow.attachments where table_name = 'public.orders'::regclass`,
  );
  expect(rows).toEqual([{ workflow: "from-export", when: "new.status = 'paid'" }]);
  await db.query("insert into public.orders values (1, 'paid'), (2, 'new')");
  const runs = await db.query("select 1 from rowflow.runs where workflow = 'from-export'");
  expect(runs.rows).toHaveLength(1);
});

it("lets a viewer check and export but not save", async () => {
  const viewer = await loginRole("viewer", { memberOf: ["rowflow_viewer"] });
  const post = await open(viewer.url);
  const spec = { steps: [t("a")] };
  expect((await post("check", { name: "v", spec })).body.ok).toBe(true);
  expect((await post("export", { name: "v", spec })).status).toBe(200);
  const refused = await post("save", { name: "v", spec });
  expect(refused.status).toBe(403);
  expect(refused.body.error).toContain("not a rowflow operator");
  const { rows } = await db.query("select 1 from rowflow.workflows where name = 'v'");
  expect(rows).toHaveLength(0);
});

it("starts from a workflow's latest version, and answers 404 for an unknown one", async () => {
  await db.query(`select rowflow.define_workflow('shop', '{"steps":[{"name":"a","task":"a"}]}')`);
  await db.query(
    `select rowflow.define_workflow('shop', '{"steps":[{"name":"a","task":"a"},{"name":"b","task":"b","dependsOn":["a"]}]}')`,
  );
  dashboard = await startDashboard({
    connectionString: db.url,
    operatorConnectionString: db.url,
    port: 0,
  });
  const page = await (await fetch(`${dashboard.url}designer?workflow=shop`)).text();
  expect(page).toContain("from shop v2");
  const initial =
    /<script type="application\/json" id="designer-initial">\s*(.*?)\s*<\/script>/s.exec(page)![1]!;
  expect(JSON.parse(initial)).toEqual({
    name: "shop",
    spec: { steps: [t("a"), { name: "b", task: "b", dependsOn: ["a"] }] },
  });
  expect((await fetch(`${dashboard.url}designer?workflow=nope`)).status).toBe(404);
  const workflows = await (await fetch(`${dashboard.url}workflows`)).text();
  expect(workflows).toContain('href="/designer?workflow=shop"');
});

it("passes on the database's refusal: an operator without EXECUTE on define_workflow gets 403", async () => {
  const operator = await loginRole("op", { memberOf: ["rowflow_operator"] });
  const post = await open(operator.url);
  const refused = await post("save", { name: "op-made", spec: { steps: [t("a")] } });
  expect(refused.status).toBe(403);
  expect(refused.body.code).toBe("42501");
  expect(refused.body.error).toMatch(
    /^refused by the database: permission denied for function define_workflow/,
  );
  const { rows } = await db.query("select 1 from rowflow.workflows where name = 'op-made'");
  expect(rows).toHaveLength(0);
});
