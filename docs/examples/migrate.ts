// Installing the schema and storing TypeScript workflows from a deploy script.
import { ConnectionError, createPool, migrate, MigrationError, syncWorkflows } from "rowflow";

import { orderPaid } from "./workflow.js";

const connectionString = process.env.DATABASE_URL ?? "postgres://postgres@localhost/app";

try {
  const result = await migrate({ connectionString, onApplied: (file) => console.log(file) });
  console.log(`applied ${result.applied.length}, pending before: ${result.pending.length}`);
} catch (error) {
  if (error instanceof MigrationError)
    console.error(`${error.code} in ${error.file}:${error.line}`);
  else if (error instanceof ConnectionError) console.error(error.message);
  throw error;
}

// syncWorkflows is not atomic by itself: use one client inside begin/commit.
const pool = createPool({ connectionString });
const db = await pool.connect();
try {
  await db.query("begin");
  const synced = await syncWorkflows(db, [orderPaid]); // [{ name: "order-paid", version: 1 }]
  await db.query("commit");
  console.log(synced);
} catch (error) {
  await db.query("rollback");
  throw error;
} finally {
  db.release();
  await pool.end();
}
