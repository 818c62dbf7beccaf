import { describe, expect, it } from "vitest";

import { createPool } from "../../src/db/connection.js";
import { openHandles } from "../../src/internal/open-handles.js";
import { useTestDatabase } from "../helpers/db.js";

const db = useTestDatabase();

describe("open-handle registry behind the afterEach leak guard", () => {
  it("lists a pool until it is ended", async () => {
    const pool = createPool({ connectionString: db.url, applicationName: "leak-guard test" });
    expect(openHandles().map((h) => h.description)).toEqual(["pg pool (leak-guard test)"]);
    await pool.end();
    expect(openHandles()).toEqual([]);
  });

  it("gives each test file a database cloned from the migrated template", async () => {
    const { rows } = await db.query<{ name: string }>(
      "select name from rowflow.migrations order by name",
    );
    expect(rows[0]?.name).toBe("000001_init.sql");
    const { rows: gw } = await db.query<{ present: boolean }>(
      "select to_regclass('graphile_worker.jobs') is not null as present",
    );
    expect(gw[0]?.present).toBe(true);
  });
});
