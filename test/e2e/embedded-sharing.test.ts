// Commands on the embedded default in one directory, as a user of the README
// tour runs them from two terminals: `rowflow worker` prints the psql line of
// the server it started (a client connects with it, and a rowflow command
// started meanwhile waits for it, then uses it); a command that holds the
// server only while it runs (`rowflow migrate`) is named to the others, who
// are told to wait, instead of a data directory "in use" by a killed process.
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";

import { type CliProcess, runCli, startCli } from "../helpers/run-cli.js";
import { waitFor } from "../helpers/wait-for.js";

const config = fileURLToPath(new URL("./fixtures/minimal.config.ts", import.meta.url));
const embedded = { DATABASE_URL: undefined };

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
  const dir = await mkdtemp(path.join(tmpdir(), "rowflow-embedded-sharing-"));
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

function start(args: string[], cwd: string): CliProcess {
  const cli = startCli(args, { cwd, env: embedded });
  cleanup.push(async () => {
    if (cli.child.exitCode === null && cli.child.signalCode === null) {
      cli.child.kill("SIGCONT");
      cli.child.kill("SIGKILL");
    }
    await cli.exited;
  });
  return cli;
}

/** The owner file's record, or undefined while there is none. */
async function ownerRecord(cwd: string): Promise<{ pid: number; state: string } | undefined> {
  const text = await readFile(path.join(cwd, ".rowflow/pgdata.owner.json"), "utf8").catch(
    () => undefined,
  );
  return text === undefined ? undefined : (JSON.parse(text) as { pid: number; state: string });
}

describe("commands sharing the embedded Postgres of one directory", () => {
  it("rowflow worker prints the psql line of the server it started, and a command started meanwhile uses it", async () => {
    const cwd = await tempDir();
    const migrated = await runCli(["migrate"], { cwd, env: embedded });
    expect(migrated.code).toBe(0);

    const worker = start(["worker", "--config", config], cwd);
    // Caught while it starts the server: the command started now waits for it.
    const starting = await waitFor(
      async () => {
        const owner = await ownerRecord(cwd);
        if (owner?.pid !== worker.child.pid) return undefined;
        worker.child.kill("SIGSTOP");
        return owner;
      },
      { intervalMs: 5, timeoutMs: 30_000, message: () => `no owner file; ${worker.out.stderr}` },
    );
    expect(starting.state).toBe("starting");
    const second = start(["runs", "--json"], cwd);
    await waitFor(() => second.out.stderr.includes("waiting for"), {
      timeoutMs: 30_000,
      message: () => `the second command did not wait; stderr:\n${second.out.stderr}`,
    });
    worker.child.kill("SIGCONT");

    const url = await waitFor(() => /^ {2}psql "([^"]+)"$/m.exec(worker.out.stderr)?.[1], {
      timeoutMs: 60_000,
      message: () => `no psql line; stderr:\n${worker.out.stderr}\nstdout:\n${worker.out.stdout}`,
    });
    expect(worker.out.stderr).toBe(
      "No DATABASE_URL: using the embedded Postgres in .rowflow/pgdata\n" +
        `  psql "${url}"\n` +
        "rowflow commands started in this directory (npx rowflow runs, show, migrate, …) use this database while this worker runs.\n",
    );
    expect(url).toMatch(/^postgres:\/\/postgres:rowflow@127\.0\.0\.1:\d+\/postgres$/);

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const workers = await waitFor(
        async () => {
          const { rows } = await client.query<{ pid: number; tasks: string[] }>(
            "select pid, tasks from rowflow.workers",
          );
          return rows.length > 0 && rows;
        },
        { message: "the worker never registered" },
      );
      expect(workers).toEqual([{ pid: worker.child.pid, tasks: ["minimal.noop"] }]);
    } finally {
      await client.end();
    }

    expect((await second.exited).code).toBe(0);
    expect(second.out.stderr).toBe(
      `No DATABASE_URL: waiting for \`rowflow worker\` (pid ${worker.child.pid}) to start the embedded Postgres in .rowflow/pgdata…\n` +
        `No DATABASE_URL: using the embedded Postgres of the running \`rowflow worker\` (pid ${worker.child.pid}): ${url}\n`,
    );
    expect(JSON.parse(second.out.stdout)).toEqual([]);

    worker.child.kill("SIGINT");
    expect(await worker.exited).toEqual({ code: null, signal: "SIGINT" });
    expect(worker.out.stdout).toMatch(/"msg":"worker [^"]+ stopped"/);
    expect(existsSync(path.join(cwd, ".rowflow/pgdata/postmaster.pid"))).toBe(false);
    expect(await ownerRecord(cwd)).toBeUndefined();
  });

  it("while rowflow migrate holds the server, another command names it and says to wait", async () => {
    const cwd = await tempDir();
    const migrate = start(["migrate"], cwd);
    // Held still while it owns the data directory (its initdb or its migrations).
    await waitFor(
      async () => {
        if ((await ownerRecord(cwd))?.pid !== migrate.child.pid) return false;
        migrate.child.kill("SIGSTOP");
        return true;
      },
      { intervalMs: 5, timeoutMs: 30_000, message: () => `no owner file; ${migrate.out.stdout}` },
    );
    for (const args of [["runs"], ["worker", "--config", config], ["migrate"]]) {
      const other = await runCli(args, { cwd, env: embedded });
      expect({ args, code: other.code, stderr: other.stderr }).toEqual({
        args,
        code: 1,
        stderr:
          `rowflow: the embedded Postgres in .rowflow/pgdata is in use by \`rowflow migrate\` (pid ${migrate.child.pid}), which stops it when it finishes: ` +
          "wait for it to finish and try again (to keep the database up for other commands, run `rowflow dev --no-demo` or `rowflow worker` in a terminal of its own)\n",
      });
    }
    expect((await ownerRecord(cwd))?.pid).toBe(migrate.child.pid);

    migrate.child.kill("SIGCONT");
    expect(await migrate.exited).toEqual({ code: 0, signal: null });
    expect(migrate.out.stdout).toMatch(/applied \d+ migration\(s\)\n$/);
    expect(await ownerRecord(cwd)).toBeUndefined();
    // Once it finished, the same command works.
    const after = await runCli(["runs", "--json"], { cwd, env: embedded });
    expect({ code: after.code, stdout: after.stdout }).toEqual({ code: 0, stdout: "[]\n" });
  });
});
