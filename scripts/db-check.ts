// `npm run db:check`: proves that sql/schema/ (the source you read and edit)
// and sql/migrations/ (what users' databases run) build the same rowflow
// schema, and prints what differs, object by object. Runs on DATABASE_URL's
// server, else on a throwaway embedded Postgres. The test suite runs the same
// check (test/repo/schema-sync.test.ts).
import { withServer } from "./fresh-database.js";
import { checkSchemas } from "./schema/check-schemas.js";
import { formatDifferences } from "./schema/compare-schemas.js";

let differences;
try {
  differences = await withServer((adminUrl) => checkSchemas(adminUrl));
} catch (error) {
  // A migration or a sql/schema file that does not apply: its message names the file and line.
  console.error((error as Error).message);
  process.exit(1);
}
if (differences.length === 0) {
  console.log("sql/schema and sql/migrations build the same schema");
  process.exit(0);
}
console.error(
  `sql/schema and sql/migrations differ in ${differences.length} object(s); ` +
    "after editing sql/schema, run `npm run db:migration <name>` to write the migration:\n",
);
console.error(formatDifferences(differences, { expected: "sql/migrations", actual: "sql/schema" }));
process.exit(1);
