// How `rowflow worker` refuses to start: bad usage, an unmigrated database, a
// database that does not exist. Each exits with one line that says what to do:
// 2 for a usage error, 1 otherwise.
import { fileURLToPath } from "node:url";

import { describe, expect, it } from "vitest";

import { withDatabase } from "../helpers/database-url.js";
import { useTestDatabase } from "../helpers/db.js";
import { runCli } from "../helpers/run-cli.js";

const config = fileURLToPath(new URL("./fixtures/minimal.config.ts", import.meta.url));
const empty = useTestDatabase({ migrated: false });

describe("rowflow worker refuses to start", () => {
  it("with a --concurrency that is not a positive integer: a usage error", async () => {
    const result = await runCli(["worker", "--config", config, "--concurrency", "abc"]);
    expect(result.code).toBe(2);
    expect(result.stderr.split("\n")[0]).toBe(
      "error: option '--concurrency <n>' argument 'abc' is invalid. expected a positive integer.",
    );
  });

  it("on an unmigrated database: says to run rowflow migrate, and installs nothing", async () => {
    const result = await runCli(["worker", "--config", config, "--database-url", empty.url]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(
        `^rowflow: database "${empty.name}" has no rowflow schema: run \`rowflow migrate\` \\(or migrate\\(\\) from TypeScript\\) first \\[RF094\\]\\n$`,
      ),
    );
    const { rows } = await empty.query<{ schemas: string[] }>(
      "select coalesce(array_agg(nspname::text order by nspname), '{}'::text[]) as schemas from pg_namespace where nspname in ('rowflow', 'graphile_worker')",
    );
    expect(rows).toEqual([{ schemas: [] }]);
  });

  it("on a database that does not exist: names it and exits instead of retrying", async () => {
    const url = withDatabase(empty.url, `${empty.name}_missing`);
    const result = await runCli(["worker", "--config", config, "--database-url", url]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(
        `^rowflow: cannot connect to Postgres at [^ ]+ \\(database "${empty.name}_missing", user "[^"]+"\\): database "${empty.name}_missing" does not exist \\[RF_CONNECTION\\]\\n$`,
      ),
    );
  });
});
