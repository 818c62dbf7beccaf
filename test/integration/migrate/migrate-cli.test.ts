import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { runCli } from "../../helpers/run-cli.js";

const db = useTestDatabase({ migrated: false });

describe("rowflow migrate (CLI)", () => {
  it("two concurrent processes apply each file once; a third run is a no-op", async () => {
    const [a, b] = await Promise.all([
      runCli(["migrate", "--database-url", db.url]),
      runCli(["migrate", "--database-url", db.url]),
    ]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const noop = [a, b].filter((r) => r.stdout === "database is up to date; nothing to apply\n");
    const applier = [a, b].filter((r) => r.stdout.startsWith("applied 000001_init.sql\n"));
    expect([noop.length, applier.length]).toEqual([1, 1]);
    const { rows } = await db.query<{ name: string; n: number }>(
      "select name, count(*)::int as n from rowflow.migrations group by name having count(*) > 1",
    );
    expect(rows).toEqual([]);
    const third = await runCli(["migrate", "--dry-run", "--database-url", db.url]);
    expect(third).toMatchObject({ code: 0, stdout: "no pending rowflow migrations\n" });
  });

  it("exits 1 with one line naming host and port when the server is unreachable", async () => {
    const result = await runCli(["migrate"], {
      env: { DATABASE_URL: "postgres://postgres@127.0.0.1:1/nowhere" },
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(
      /^rowflow: cannot connect to Postgres at 127\.0\.0\.1:1 \(database "nowhere", user "postgres"\): connect ECONNREFUSED 127\.0\.0\.1:1 \[RF_CONNECTION\]\n$/,
    );
  });

  it("exits 1 with one line for a malformed URL, and a stack only with --verbose", async () => {
    const plain = await runCli(["migrate", "--database-url", "not a url"]);
    expect(plain.code).toBe(1);
    expect(plain.stderr.trim().split("\n")).toHaveLength(1);
    expect(plain.stderr).toContain("malformed database URL");
    const verbose = await runCli(["--verbose", "migrate", "--database-url", "not a url"]);
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/ConnectionError: malformed database URL[\s\S]*\n\s+at /);
  });
});
