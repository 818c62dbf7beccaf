// rowflow as a user's application gets it: the `npm pack` tarball installed
// (`npm install <tarball> zod`, from the npm cache where it can) into an app
// outside this checkout whose package.json has no "type": "module". Its
// rowflow.config.ts is the README tour's, verbatim; it type-checks against
// the installed types, and `npx rowflow migrate` and `npx rowflow worker` run
// the installed bin (compiled dist/, no tsconfig paths, no tsx of the
// checkout) against this file's own, empty database. A plain INSERT's run
// succeeds, and a SIGTERM to the worker drains it; the worker then ends by
// SIGTERM, which npx reports as exit 143.
import { type ChildProcess, spawn } from "node:child_process";
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { useTestDatabase } from "../helpers/db.js";
import { npmEnv, packedTarball, run } from "../helpers/packed-tarball.js";
import { waitFor } from "../helpers/wait-for.js";

const db = useTestDatabase({ migrated: false });
const repo = fileURLToPath(new URL("../../", import.meta.url));
const tour = (file: string) => path.join(repo, "examples", "tour", file);
const tsc = path.join(repo, "node_modules", "typescript", "bin", "tsc");

let app = "";
let worker: ChildProcess | undefined;

beforeAll(async () => {
  const tarball = await packedTarball();
  app = await mkdtemp(path.join(tmpdir(), "rowflow-app-"));
  await writeFile(
    path.join(app, "package.json"),
    JSON.stringify({ name: "rowflow-packed-app", version: "1.0.0", private: true }, null, 2),
  );
  await run(
    "npm",
    ["install", tarball, "zod", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"],
    { cwd: app },
  );
  await copyFile(tour("rowflow.config.ts"), path.join(app, "rowflow.config.ts"));
}, 180_000);

afterAll(async () => {
  if (worker && worker.exitCode === null) worker.kill("SIGKILL");
  if (app) await rm(app, { recursive: true, force: true });
});

describe("the packed package in an app of its own (CommonJS, outside the checkout)", () => {
  it("type-checks the tour's rowflow.config.ts against the installed types", async () => {
    await writeFile(
      path.join(app, "tsconfig.json"),
      JSON.stringify({
        // skipLibCheck: checking kysely's and zod's own .d.ts takes 12 s more.
        // exactOptionalPropertyTypes: on in `tsc --init`'s tsconfig.json.
        compilerOptions: {
          module: "nodenext",
          strict: true,
          exactOptionalPropertyTypes: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        include: ["rowflow.config.ts"],
      }),
    );
    // Throws with tsc's errors when it fails.
    await run(process.execPath, [tsc, "-p", "."], { cwd: app });
  });

  it("npx rowflow migrate installs the schema", async () => {
    const migrations = (await readdir(path.join(repo, "sql", "migrations"))).filter((f) =>
      f.endsWith(".sql"),
    );
    const { stdout } = await run("npx", ["rowflow", "migrate"], {
      cwd: app,
      env: npmEnv({ DATABASE_URL: db.url }),
    });
    expect(stdout.trimEnd().split("\n").at(-1)).toBe(`applied ${migrations.length} migration(s)`);
  });

  it("npx rowflow worker runs the tour's INSERT to success and drains on SIGTERM", async () => {
    await db.query(await readFile(tour("setup.sql"), "utf8"));
    const child = spawn("npx", ["rowflow", "worker"], {
      cwd: app,
      env: npmEnv({ DATABASE_URL: db.url }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    worker = child;
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on("close", (code, signal) => resolve({ code, signal })),
    );

    const pid = await waitFor(
      async () => {
        const { rows } = await db.query<{ pid: number }>("select pid from rowflow.workers");
        return rows[0]?.pid;
      },
      { timeoutMs: 30_000, message: () => `the worker registered; it printed:\n${output}` },
    );
    // The node process under npx runs the app's installed bin.
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0");
    expect(cmdline[1]).toBe(path.join(app, "node_modules", ".bin", "rowflow"));

    await db.query("insert into public.signups (email) values ('ada@example.com')");
    await waitFor(
      async () => {
        const { rows } = await db.query<{ status: string }>(
          "select status from rowflow.runs where workflow = 'welcome'",
        );
        return rows[0]?.status === "succeeded";
      },
      {
        timeoutMs: 30_000,
        message: () => `the welcome run succeeded; the worker printed:\n${output}`,
      },
    );
    const { rows: signups } = await db.query(
      "select email, welcomed_at is not null as welcomed from public.signups",
    );
    expect(signups).toEqual([{ email: "ada@example.com", welcomed: true }]);

    process.kill(pid, "SIGTERM");
    // The worker drains, then ends by the signal; npx, whose child died of
    // SIGTERM, exits 128 + 15 (it exited 0 when the worker did).
    expect(await exited).toEqual({ code: 143, signal: null });
    const { rows } = await db.query<{ workers: number; locked: number }>(
      `select (select count(*) from rowflow.workers)::int as workers,
              (select count(*) from graphile_worker._private_jobs where locked_at is not null)::int as locked`,
    );
    expect(rows).toEqual([{ workers: 0, locked: 0 }]);
    expect(output).toContain("welcome mail to ada@example.com");
    expect(output).toMatch(/"msg":"worker [^"]+ stopped"/);
  });
});
