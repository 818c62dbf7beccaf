import type { Queryable } from "../queryable.js";

/** Round trip to the server; throws when it cannot be reached. */
export async function ping(db: Queryable): Promise<void> {
  await db.query("select 1");
}
