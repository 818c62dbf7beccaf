// --wait-for-database on `rowflow worker` and `rowflow migrate`, against a
// port nothing listens on: the worker retries (one warning per attempt) and
// gives up after the bound with one line naming host:port, exit 1; migrate
// fails at once without the option and waits with it. A server that comes up
// during the wait is connected to (test/integration/wait-for-database.test.ts).
import { fileURLToPath } from "node:url";

import { describe, expect, it } from "vitest";

import { findFreePort } from "../../src/embedded/free-port.js";
import { runCli } from "../helpers/run-cli.js";

const config = fileURLToPath(new URL("./fixtures/minimal.config.ts", import.meta.url));

async function nowhere(): Promise<{ url: string; port: number }> {
  const port = await findFreePort(); // free a moment ago; nothing listens on it
  return { url: `postgres://rowflow@127.0.0.1:${port}/app`, port };
}

const gaveUp = (port: number) =>
  new RegExp(
    `^rowflow: cannot connect to Postgres at 127\\.0\\.0\\.1:${port} \\(database "app", user "rowflow"\\): connect ECONNREFUSED 127\\.0\\.0\\.1:${port} \\(gave up after \\d+\\.\\d s and \\d+ attempts\\) \\[RF_CONNECTION\\]$`,
  );

describe("--wait-for-database", () => {
  it("rowflow worker: retries for the given time, then exits 1 with one line naming host:port", async () => {
    const { url, port } = await nowhere();
    const started = Date.now();
    const result = await runCli([
      "worker",
      "--config",
      config,
      "--database-url",
      url,
      "--wait-for-database",
      "1500ms",
    ]);
    const elapsed = Date.now() - started;
    expect(result.code).toBe(1);
    expect(result.stderr.trimEnd().split("\n")).toEqual([expect.stringMatching(gaveUp(port))]);
    // Backoff from 250 ms: attempts at about 0, 250, 750 and 1500 ms.
    const warnings = result.stdout
      .split("\n")
      .filter((line) => line.includes(`127.0.0.1:${port}`) && line.includes("retrying in"));
    expect(warnings.length).toBeGreaterThanOrEqual(2);
    expect(elapsed).toBeGreaterThanOrEqual(1500);
  });

  it("rowflow migrate: fails at once without it, and waits with it", async () => {
    const { url, port } = await nowhere();
    const once = await runCli(["migrate", "--database-url", url]);
    expect(once.code).toBe(1);
    expect(once.stderr).toBe(
      `rowflow: cannot connect to Postgres at 127.0.0.1:${port} (database "app", user "rowflow"): connect ECONNREFUSED 127.0.0.1:${port} [RF_CONNECTION]\n`,
    );

    const started = Date.now();
    const waited = await runCli(["migrate", "--database-url", url, "--wait-for-database", "1s"]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(waited.code).toBe(1);
    const lines = waited.stderr.trimEnd().split("\n");
    expect(lines.at(-1)).toMatch(gaveUp(port));
    expect(lines.slice(0, -1).length).toBeGreaterThanOrEqual(2); // one per failed attempt
    for (const line of lines.slice(0, -1)) {
      expect(line).toMatch(
        new RegExp(
          `^rowflow: cannot connect to Postgres at 127\\.0\\.0\\.1:${port} .*\\(attempt \\d+\\); retrying in \\d+ ms$`,
        ),
      );
    }
  });

  it("is a usage error (exit 2) when it is not a duration, before anything starts", async () => {
    const result = await runCli(["worker", "--config", config, "--wait-for-database", "soon"]);
    expect(result.code).toBe(2);
    expect(result.stderr.split("\n")[0]).toBe(
      "error: option '--wait-for-database <duration>' argument 'soon' is invalid. expected a duration such as 500ms, 30s, 2m or 1h.",
    );
  });
});
