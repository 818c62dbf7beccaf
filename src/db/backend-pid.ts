import { onlyRow, type Queryable } from "./queryable.js";

/** The server process id of a connection (to cancel its statements from another one). */
export async function backendPid(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ pid: number }>("select pg_catalog.pg_backend_pid() as pid");
  return onlyRow(rows, "pg_backend_pid").pid;
}
