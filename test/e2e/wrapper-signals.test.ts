// A SIGTERM that a wrapper does not pass on: `npx rowflow worker` (npm exits
// 143 and leaves node running) and `sh -c "node bin/rowflow.js worker"`. The
// worker notices its parent is gone and drains as on SIGTERM: its row in
// rowflow.workers is removed (a clean unregister) and the process exits.
// (The sh command has a second command after the worker so that sh does not
// exec it in its own place.)
import { spawn } from "node:child_process";
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
