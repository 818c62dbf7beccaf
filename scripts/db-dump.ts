// Writes sql/schema.sql: a schema-only dump of the `rowflow` schema of a freshly
// migrated database, without ownership, privileges or version noise, so that a
// diff of it shows exactly what a migration changed. CI fails when it is stale.
// Needs pg_dump (PostgreSQL client tools) on PATH.
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { promisify } from "node:util";

import { withFreshDatabase } from "./fresh-database.js";

const run = promisify(execFile);

const dump = await withFreshDatabase(async (url) => {
  const { stdout } = await run(
    "pg_dump",
    ["--schema-only", "--no-owner", "--no-privileges", "--schema=rowflow", "--dbname", url],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout;
});

const cleaned = dump
  .split("\n")
  // Version lines, and the random \restrict key newer pg_dump versions emit.
  .filter((line) => !/^(-- Dumped (from|by) |\\(un)?restrict )/.test(line))
  .join("\n")
  .replace(/\n{3,}/g, "\n\n");

await writeFile(new URL("../sql/schema.sql", import.meta.url), cleaned);
console.log("wrote sql/schema.sql");
process.exit(0);
