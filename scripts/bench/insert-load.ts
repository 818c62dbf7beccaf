import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import pg from "pg";

const run = promisify(execFile);

let pgbenchAvailable: boolean | undefined;

async function hasPgbench(): Promise<boolean> {
  if (pgbenchAvailable === undefined) {
    pgbenchAvailable = await run("pgbench", ["--version"]).then(
      () => true,
      () => false,
    );
  }
  return pgbenchAvailable;
}

/**
 * Runs `sql` (one statement, its own transaction) from `clients` connections
 * for `seconds`, and returns transactions per second. Uses pgbench when it is
 * on PATH (C client, so the load generator takes little CPU from Postgres),
 * else node-postgres clients.
 */
export async function insertLoad(url: string, sql: string, clients: number, seconds: number) {
  if (await hasPgbench()) {
    const dir = await mkdtemp(path.join(tmpdir(), "rowflow-pgbench-"));
    const script = path.join(dir, "load.sql");
    await writeFile(script, `${sql}\n`);
    const { stdout } = await run(
      "pgbench",
      [
        "-n",
        "-M",
        "prepared",
        "-c",
        String(clients),
        "-j",
        String(Math.min(clients, 2)),
        "-T",
        String(seconds),
        "-f",
        script,
        url,
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    const match = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout);
    if (!match?.[1]) throw new Error(`could not read tps from pgbench output:\n${stdout}`);
    return { tps: Number(match[1]), tool: "pgbench" };
  }
  return { tps: await nodeLoad(url, sql, clients, seconds), tool: "node-postgres" };
}

async function nodeLoad(url: string, sql: string, clients: number, seconds: number) {
  const pool = new pg.Pool({ connectionString: url, max: clients });
  // An idle client ended by the server (the variant's database dropped with
  // FORCE while the pool winds down) must not crash the bench.
  pool.on("error", () => {});
  let count = 0;
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  try {
    await Promise.all(
      Array.from({ length: clients }, async () => {
        const client = await pool.connect();
        try {
          while (performance.now() < deadline) {
            await client.query({ name: "load", text: sql });
            count++;
          }
        } finally {
          client.release();
        }
      }),
    );
  } finally {
    await pool.end();
  }
  return (count * 1000) / (performance.now() - start);
}
