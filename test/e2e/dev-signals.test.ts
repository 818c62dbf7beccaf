// `rowflow dev` on the embedded default: the first Ctrl-C or SIGTERM drains
// the worker, stops the embedded Postgres and then ends the process by that
// signal (as npm and npx do, so the exit status is the same however dev is
// started); a second one, while the drain waits for a handler, exits at once
// with 130 and must still take the embedded Postgres down: a postmaster left
// running on .rowflow/pgdata made the next `rowflow dev` fail. A data
// directory that a live server still holds is refused with what to do.
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";

import { startEmbeddedPostgres } from "../../src/embedded/embedded-postgres.js";
import { startCli } from "../helpers/run-cli.js";
import { waitFor } from "../helpers/wait-for.js";

const config = fileURLToPath(new URL("./fixtures/dev-hang.config.ts", import.meta.url));

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "rowflow-dev-signals-"));
  // As root, the embedded server runs as the OS user postgres, which must be able to enter it.
  await chmod(dir, 0o755);
  cleanup.push(async () => {
    // A server a failed test left behind (its rowflow dev was SIGKILLed).
    for (const pidFile of [
      path.join(dir, ".rowflow/pgdata/postmaster.pid"),
      path.join(dir, "pgdata/postmaster.pid"),
    ]) {
      const pid = existsSync(pidFile) ? await postmasterPid(pidFile) : 0;
      if (pid > 0 && alive(pid)) {
        process.kill(pid, "SIGINT");
        await waitFor(() => !alive(pid), { timeoutMs: 30_000 });
      }
    }
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** `rowflow dev --config dev-hang.config.ts [args]` in `cwd`, on the embedded default. */
function startDev(cwd: string, args: string[] = [], env: Record<string, string> = {}) {
  const { child, out, exited } = startCli(["dev", "--config", config, ...args], {
    cwd,
    env: { DATABASE_URL: undefined, ...env },
  });
  cleanup.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  });
  const running = () =>
    waitFor(() => out.stdout.includes("the hanging step is running"), {
      timeoutMs: 60_000,
      message: () =>
        `dev never got its handler running; stdout:\n${out.stdout}\nstderr:\n${out.stderr}`,
    });
  const draining = () =>
    waitFor(() => out.stdout.includes("stopping: draining the worker"), {
      message: () => `no drain after SIGINT; stdout:\n${out.stdout}`,
    });
  return { child, out, exited, running, draining };
}

/** The postmaster's pid from postmaster.pid. */
async function postmasterPid(pidFile: string): Promise<number> {
  return Number((await readFile(pidFile, "utf8")).split("\n")[0]);
}

/** Waits until the server of `pidFile` is gone, and its pid file with it. */
async function expectStopped(pid: number, pidFile: string): Promise<void> {
  await waitFor(() => !alive(pid), {
    timeoutMs: 30_000,
    message: `the embedded Postgres (pid ${pid}) outlived rowflow dev`,
  });
  await waitFor(() => !existsSync(pidFile), { message: "postmaster.pid was left behind" });
}

describe("rowflow dev and its embedded Postgres on Ctrl-C", () => {
  it("a second Ctrl-C during the drain exits 130 and stops the embedded Postgres", async () => {
    const cwd = await tempDir();
    const dev = startDev(cwd);
    await dev.running();
    const pidFile = path.join(cwd, ".rowflow/pgdata/postmaster.pid");
    const postmaster = await postmasterPid(pidFile);
    expect(alive(postmaster)).toBe(true);

    dev.child.kill("SIGINT");
    await dev.draining();
    // The handler ignores its signal and the grace period is 2 minutes: the
    // drain is still waiting when the second SIGINT comes.
    dev.child.kill("SIGINT");
    expect(await dev.exited).toEqual({ code: 130, signal: null });
    await expectStopped(postmaster, pidFile);

    // The next start on the same data directory works.
    const again = await startEmbeddedPostgres({ dataDir: path.join(cwd, ".rowflow/pgdata") });
    await again.stop();
  });

  it("a SIGTERM drains the worker, stops Postgres, then ends dev by SIGTERM", async () => {
    const cwd = await tempDir();
    // The hanging handler is aborted after 300 ms; its attempt is recorded as failed.
    const dev = startDev(cwd, [], { ROWFLOW_TEST_GRACE_MS: "300" });
    await dev.running();
    const dataDir = path.join(cwd, ".rowflow/pgdata");
    const pidFile = path.join(dataDir, "postmaster.pid");
    const postmaster = await postmasterPid(pidFile);

    dev.child.kill("SIGTERM");
    expect(await dev.exited).toEqual({ code: null, signal: "SIGTERM" });
    expect(dev.out.stdout).toContain("stopping: draining the worker");
    await expectStopped(postmaster, pidFile);
    // The owner record went with the process ('exit' listeners ran before the signal).
    expect(existsSync(path.join(cwd, ".rowflow/pgdata.owner.json"))).toBe(false);

    // The drain finished before the signal: the worker unregistered, and no
    // attempt was left running (the aborted one was recorded).
    const again = await startEmbeddedPostgres({ dataDir });
    const client = new pg.Client({ connectionString: again.connectionString() });
    try {
      await client.connect();
      const { rows } = await client.query<{ workers: number; running: number; attempts: number }>(
        `select (select count(*) from rowflow.workers)::int as workers,
                (select count(*) from rowflow.step_runs where status = 'running')::int as running,
                (select count(*) from rowflow.step_runs where step = 'wait')::int as attempts`,
      );
      expect(rows).toEqual([{ workers: 0, running: 0, attempts: 1 }]);
    } finally {
      await client.end();
      await again.stop();
    }
  });

  it("--once: a Ctrl-C before the demo is done drains, stops Postgres and ends by SIGINT", async () => {
    const cwd = await tempDir();
    const dev = startDev(cwd, ["--once"], { ROWFLOW_TEST_GRACE_MS: "300" });
    await dev.running();
    const pidFile = path.join(cwd, ".rowflow/pgdata/postmaster.pid");
    const postmaster = await postmasterPid(pidFile);

    dev.child.kill("SIGINT");
    expect(await dev.exited).toEqual({ code: null, signal: "SIGINT" });
    expect(dev.out.stdout).toContain("stopping: draining the worker");
    expect(dev.out.stdout).not.toContain("demo finished");
    await expectStopped(postmaster, pidFile);
  });

  it("refuses a data directory a running Postgres still serves, and says what to do", async () => {
    const dataDir = path.join(await tempDir(), "pgdata");
    const first = await startEmbeddedPostgres({ dataDir });
    cleanup.push(() => first.stop());
    const pid = Number(
      (await readFile(path.join(dataDir, "postmaster.pid"), "utf8")).split("\n")[0],
    );
    await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(
      `the data directory ${dataDir} is in use by a running Postgres (pid ${pid}, port ${first.port}), perhaps left by a rowflow process that was killed; stop that process, or the server (kill -INT ${pid}), and try again`,
    );
    // Nothing of the first server was touched.
    expect(alive(pid)).toBe(true);
  });
});
