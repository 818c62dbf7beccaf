// A SIGTERM that a wrapper does not pass on: `npx rowflow worker` (npm exits
// 143 and leaves node running) and `sh -c "node bin/rowflow.js worker"`. The
// worker notices its parent is gone and drains as on SIGTERM: its row in
// rowflow.workers is removed (a clean unregister) and the process exits.
// (The sh command has a second command after the worker so that sh does not
// exec it in its own place.)
//
// And a signal to the whole process group, as Ctrl-C in a terminal or a
// process manager's group kill sends it: the worker drains, then ends by
// that signal, so node, npx and bash report the same death by SIGINT or
// SIGTERM (130/143 in a shell). bash then does not run the command after the
// worker, as it does for a child that exits 0 after a Ctrl-C.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../helpers/db.js";
import { waitFor } from "../helpers/wait-for.js";

const db = useTestDatabase();
const root = fileURLToPath(new URL("../../", import.meta.url));
const config = fileURLToPath(new URL("./fixtures/minimal.config.ts", import.meta.url));
const bin = fileURLToPath(new URL("../../bin/rowflow.js", import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The process is gone, or has exited and waits to be reaped (state Z in /proc). */
function exitedOrZombie(pid: number): boolean {
  if (!alive(pid)) return true;
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
}

async function workerPids(): Promise<number[]> {
  const { rows } = await db.query<{ pid: number }>("select pid from rowflow.workers order by pid");
  return rows.map((r) => r.pid);
}

describe("a worker whose wrapper exits on SIGTERM without passing it on", () => {
  for (const [label, command, args] of [
    ["npx rowflow worker", "npx", ["rowflow", "worker", "--config", config, "--database-url"]],
    [
      "sh -c 'node bin/rowflow.js worker'",
      "sh",
      [
        "-c",
        `"${process.execPath}" "${bin}" worker --config "${config}" --database-url "$0"; echo "worker exited"`,
      ],
    ],
  ] as const) {
    it(`${label}: drains, unregisters and exits`, async () => {
      const wrapper = spawn(command, [...args, db.url], {
        cwd: root,
        env: { ...process.env, DATABASE_URL: undefined },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      wrapper.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      try {
        const [pid] = await waitFor(
          async () => {
            const pids = await workerPids();
            return pids.length === 1 ? pids : undefined;
          },
          { timeoutMs: 30_000, message: () => `the worker registered; stderr: ${stderr}` },
        );
        expect(pid).not.toBe(wrapper.pid);
        // The wrapper dies of the signal; the worker does not get it.
        wrapper.kill("SIGTERM");
        await waitFor(async () => (await workerPids()).length === 0 && !alive(pid!), {
          timeoutMs: 20_000,
          message: `worker ${pid} unregistered and exited`,
        });
        const { rows } = await db.query<{ n: number }>(
          "select count(*)::int as n from graphile_worker._private_jobs where locked_at is not null",
        );
        expect(rows[0]!.n).toBe(0);
      } finally {
        wrapper.kill("SIGKILL");
        for (const pid of await workerPids()) if (alive(pid)) process.kill(pid, "SIGKILL");
      }
    });
  }
});

describe("a signal to the process group of a worker started by node, npx or bash", () => {
  const after = `echo "after the worker: $?"`;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    for (const [label, command, args] of [
      ["node bin/rowflow.js worker", process.execPath, [bin, "worker", "--config", config]],
      ["npx rowflow worker", "npx", ["rowflow", "worker", "--config", config]],
      [
        "bash -c 'node bin/rowflow.js worker; echo'",
        "bash",
        ["-c", `"${process.execPath}" "${bin}" worker --config "${config}"; ${after}`],
      ],
    ] as const) {
      it(`${label}: ${signal} drains the worker, which ends by ${signal}`, async () => {
        const wrapper = spawn(command, args, {
          cwd: root,
          env: { ...process.env, DATABASE_URL: db.url },
          stdio: ["ignore", "pipe", "pipe"],
          detached: true, // its own process group, as a terminal's foreground job
        });
        let output = "";
        wrapper.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
        wrapper.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
        const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
          (resolve) => wrapper.on("close", (code, signal) => resolve({ code, signal })),
        );
        try {
          const [pid] = await waitFor(
            async () => {
              const pids = await workerPids();
              return pids.length === 1 ? pids : undefined;
            },
            { timeoutMs: 30_000, message: () => `the worker registered; output: ${output}` },
          );
          process.kill(-wrapper.pid!, signal);
          // (npm and bash die of a SIGTERM at once, so there their status is
          // the signal whatever the worker does; the worker's own is node's.)
          expect(await exited).toEqual({ code: null, signal });
          // 'close' came once the worker's pipes closed, which the kernel
          // does while the process exits, a moment before it is a zombie (a
          // worker under npx or bash is re-parented, and may not be reaped yet).
          await waitFor(() => exitedOrZombie(pid!), { message: `worker ${pid} exited` });
          // The drain finished before the signal: its last log line was
          // flushed, the worker row is gone, no job is left locked.
          expect(output).toMatch(/"msg":"worker [^"]+ stopped"/);
          expect(output).not.toContain("after the worker");
          const { rows } = await db.query<{ workers: number; locked: number }>(
            `select (select count(*) from rowflow.workers)::int as workers,
                    (select count(*) from graphile_worker._private_jobs where locked_at is not null)::int as locked`,
          );
          expect(rows).toEqual([{ workers: 0, locked: 0 }]);
        } finally {
          if (wrapper.exitCode === null && wrapper.signalCode === null) {
            process.kill(-wrapper.pid!, "SIGKILL");
          }
          for (const pid of await workerPids()) if (alive(pid)) process.kill(pid, "SIGKILL");
        }
      });
    }
  }
});
