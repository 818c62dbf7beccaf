import { onlyRow, type Queryable } from "../queryable.js";

/** Arguments of `rowflow.start_run`. */
export interface StartRunArgs {
  workflow: string;
  input?: Record<string, unknown>;
  idempotencyKey?: string | null;
  priority?: number;
  now?: Date | null;
}

/** Calls `rowflow.start_run`; returns the run id (bigint as a string). */
export async function startRun(db: Queryable, args: StartRunArgs): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `select rowflow.start_run(workflow => $1, input => $2::jsonb, idempotency_key => $3,
                              priority => $4, now => $5) as id`,
    [
      args.workflow,
      JSON.stringify(args.input ?? {}),
      args.idempotencyKey ?? null,
      args.priority ?? 0,
      args.now ?? null,
    ],
  );
  return String(onlyRow(rows, "rowflow.start_run").id);
}
