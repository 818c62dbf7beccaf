// `rowflow dev --no-demo` on the embedded default, as the README tour uses it:
// the database stays up, migrated, with a worker for the config (which
// defines the config's workflows) and no dev setup or demo. It prints the
// psql line; a client connects with it, and a rowflow command started in the
// same directory (a second terminal) uses that server instead of refusing a
// data directory in use. Ctrl-C drains the worker, stops Postgres and ends
// dev by SIGINT.
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";

import { runCli, startCli } from "../helpers/run-cli.js";
import { waitFor } from "../helpers/wait-for.js";

const config = fileURLToPath(new URL("./fixtures/no-demo.config.ts", import.meta.url));
const migrationsDir = fileURLToPath(new URL("../../sql/migrations/", import.meta.url));

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "rowflow-no-demo-"));
  // As root, the embedded server runs as the OS user postgres, which must be able to enter it.
  await chmod(dir, 0o755);
  cleanup.push(async () => {
    const pidFile = path.join(dir, ".rowflow/pgdata/postmaster.pid");
    const pid = existsSync(pidFile) ? Number((await readFile(pidFile, "utf8")).split("\n")[0]) : 0;
    if (pid > 0 && alive(pid)) {
      process.kill(pid, "SIGINT"); // a server a failed test left behind
      await waitFor(() => !alive(pid), { timeoutMs: 30_000 });
    }
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

describe("rowflow dev --no-demo", () => {
  it("keeps a migrated embedded Postgres and a worker running, shared with a second terminal, until Ctrl-C", async () => {
    const cwd = await tempDir();
    const dev = startCli(["dev", "--no-demo", "--config", config], {
      cwd,
      env: { DATABASE_URL: undefined },
    });
    cleanup.push(async () => {
      if (dev.child.exitCode === null && dev.child.signalCode === null) dev.child.kill("SIGKILL");
      await dev.exited;
    });
    const url = await waitFor(() => /^ {2}psql "([^"]+)"$/m.exec(dev.out.stdout)?.[1], {
      timeoutMs: 60_000,
      message: () => `no psql line; stdout:\n${dev.out.stdout}\nstderr:\n${dev.out.stderr}`,
    });
    await waitFor(() => dev.out.stdout.includes("Press Ctrl-C to stop."), {
      message: () => `no end of banner; stdout:\n${dev.out.stdout}`,
    });
    expect(dev.out.stdout).toContain(
      `rowflow dev is running on the embedded Postgres (data in ${path.join(cwd, ".rowflow/pgdata")}), with a worker for ${config} (tasks: nodemo.echo).\n` +
        `  psql "${url}"\n`,
    );
    // The dashboard: port 4000, or any free one when another test holds it.
    const dashboard = /\n {2}dashboard (http:\/\/127\.0\.0\.1:\d+\/)\n/.exec(dev.out.stdout)?.[1];
    expect(dashboard, dev.out.stdout).toBeDefined();
    const runsPage = await fetch(dashboard!);
    expect(runsPage.status).toBe(200);
    // dev passes its database as the operator connection too: the buttons are on.
    expect(await runsPage.text()).not.toContain('id="actions-off"');
    expect(dev.out.stdout).toContain(
      `  dashboard ${dashboard}\n` +
        "In a second terminal, run the psql line above to paste SQL;\n" +
        "rowflow commands started in this directory (npx rowflow runs, show, migrate, …) use this database while rowflow dev runs.\n",
    );
    expect(dev.out.stdout).not.toContain("the demo banner");

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const migrations = (await readdir(migrationsDir)).filter((f) => f.endsWith(".sql")).sort();
      const applied = await client.query<{ name: string }>(
        "select name from rowflow.migrations order by name",
      );
      expect(applied.rows.map((r) => r.name)).toEqual(migrations);
      const workers = await client.query<{ pid: number; tasks: string[] }>(
        "select pid, tasks from rowflow.workers",
      );
      expect(workers.rows).toEqual([{ pid: dev.child.pid, tasks: ["nodemo.echo"] }]);
      // No dev setup, no demo: the worker defined the config's workflow, nothing else ran.
      const state = await client.query(
        `select (select count(*)::int from rowflow.workflows where name = 'nodemo') as workflows,
                (select count(*)::int from rowflow.runs) as runs,
                to_regclass('public.setup_ran') is null as no_setup`,
      );
      expect(state.rows).toEqual([{ workflows: 1, runs: 0, no_setup: true }]);

      // A second terminal: a rowflow command in the same directory uses this server.
      const { rows: started } = await client.query<{ id: string }>(
        `select rowflow.start_run('nodemo', '{"n": 1}')::text as id`,
      );
      const run = started[0]!.id;
      await waitFor(
        async () =>
          (
            await client.query(
              "select 1 from rowflow.runs where id = $1 and status = 'succeeded'",
              [run],
            )
          ).rowCount === 1,
        {
          timeoutMs: 30_000,
          message: () => `run ${run} succeeded; dev printed:\n${dev.out.stdout}`,
        },
      );
      const second = await runCli(["show", run, "--json"], {
        cwd,
        env: { DATABASE_URL: undefined },
      });
      expect(second.stderr).toBe(
        `No DATABASE_URL: using the embedded Postgres of the running \`rowflow dev\` (pid ${dev.child.pid}): ${url}\n`,
      );
      expect(second.code).toBe(0);
      expect(JSON.parse(second.stdout)).toMatchObject({
        run: { id: run, status: "succeeded" },
        steps: [{ step: "echo", status: "succeeded", output: { echoed: { n: 1 } } }],
      });
    } finally {
      await client.end();
    }

    // A second rowflow dev in the same directory joins the server, and its hint
    // says whose it is (the database stops with the first one).
    const joiner = startCli(["dev", "--no-demo", "--config", config], {
      cwd,
      env: { DATABASE_URL: undefined },
    });
    cleanup.push(async () => {
      if (joiner.child.exitCode === null) joiner.child.kill("SIGKILL");
      await joiner.exited;
    });
    await waitFor(() => joiner.out.stdout.includes("Press Ctrl-C to stop."), {
      timeoutMs: 60_000,
      message: () => `no banner; stdout:\n${joiner.out.stdout}\nstderr:\n${joiner.out.stderr}`,
    });
    const first = `\`rowflow dev\` (pid ${dev.child.pid})`;
    // The second dev's dashboard takes another port: the first holds its own.
    const joinerDashboard = /\n {2}dashboard (http:\/\/127\.0\.0\.1:\d+\/)\n/.exec(
      joiner.out.stdout,
    )?.[1];
    expect(joinerDashboard, joiner.out.stdout).toBeDefined();
    expect(joiner.out.stdout).toBe(
      `No DATABASE_URL: using the embedded Postgres of the running ${first}: ${url}\n\n` +
        `rowflow dev is running on the embedded Postgres of ${first}, with a worker for ${config} (tasks: nodemo.echo).\n` +
        `  psql "${url}"\n` +
        `  dashboard ${joinerDashboard}\n` +
        "In a second terminal, run the psql line above to paste SQL;\n" +
        `rowflow commands started in this directory (npx rowflow runs, show, migrate, …) use this database while ${first} runs; it stops the database when it stops.\n` +
        "Press Ctrl-C to stop.\n\n",
    );
    joiner.child.kill("SIGINT");
    expect(await joiner.exited).toEqual({ code: null, signal: "SIGINT" });

    const pidFile = path.join(cwd, ".rowflow/pgdata/postmaster.pid");
    const postmaster = Number((await readFile(pidFile, "utf8")).split("\n")[0]);
    dev.child.kill("SIGINT");
    expect(await dev.exited).toEqual({ code: null, signal: "SIGINT" });
    expect(dev.out.stdout).toContain("stopping: draining the worker");
    await waitFor(() => !alive(postmaster), {
      timeoutMs: 30_000,
      message: `the embedded Postgres (pid ${postmaster}) outlived rowflow dev`,
    });
    expect(existsSync(pidFile)).toBe(false);
    expect(existsSync(path.join(cwd, ".rowflow/pgdata.owner.json"))).toBe(false);
  });

  it("refuses --once: there is no demo to finish", async () => {
    const result = await runCli(["dev", "--no-demo", "--once", "--config", config]);
    expect(result.code).toBe(2);
    expect(result.stderr.split("\n")[0]).toBe(
      "error: option '--once' cannot be used with option '--no-demo'",
    );
  });
});
