// `npm run db:migration <name>`: after editing sql/schema/, writes the next
// numbered migration in sql/migrations/ (create or replace of each changed
// function and view, drops of removed ones, new tables, types and indexes,
// and a marked TODO block for the table changes to write by hand). Then
// `npm run db:check` proves that the migrations build sql/schema's schema.
// Runs on DATABASE_URL's server, else on a throwaway embedded Postgres.
import path from "node:path";

import { withServer } from "./fresh-database.js";
import { writeNextMigration } from "./schema/new-migration.js";

const name = process.argv[2];
if (!name || process.argv.length > 3) {
  console.error("usage: npm run db:migration <name>   (e.g. npm run db:migration step_timeouts)");
  process.exit(2);
}
const { file, plan } = await withServer((adminUrl) => writeNextMigration(adminUrl, name));
if (!file) {
  console.log("nothing to write: sql/schema and sql/migrations build the same schema");
  process.exit(0);
}
console.log(`wrote ${path.relative(process.cwd(), file)}`);
for (const key of plan.automatic) console.log(`  ${key}`);
if (plan.manual.length > 0) {
  console.log(`\nto write by hand (see the TODO(db:migration) block in the file):`);
  for (const key of plan.manual) console.log(`  ${key}`);
}
console.log("\nthen: describe the why at the top of the file, and run npm run db:check");
process.exit(0);
