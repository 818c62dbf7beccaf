// Typed call of rowflow.signal (sql/schema/78_waits/signal.sql,
// docs/sql-api.md#signal): one statement; its answer, typed. Bad input
// raises (RF060 name, RF061 payload size); nothing else does.
import { onlyRow, type Queryable } from "../queryable.js";

/** What became of a signal (rowflow.signal's answer). */
export type SignalResult =
  | {
      ok: true;
      status: "delivered";
      run: number;
      signal: number;
      /** The step that was waiting for it: it succeeded with the payload. */
      step: string;
      released: string[];
      runStatus: string;
    }
  | { ok: true; status: "kept"; run: number; signal: number; waitedBy: string[] }
  | { ok: false; status: "unexpected"; run: number; signal: number; message: string }
  | { ok: false; status: "run_finished"; run: number; signal: number; runStatus: string }
  | { ok: false; status: "unknown_run"; run: number };

export async function sendSignal(
  db: Queryable,
  runId: string,
  name: string,
  payload: unknown,
): Promise<SignalResult> {
  const { rows } = await db.query<{ r: SignalResult }>(
    "select rowflow.signal($1::bigint, $2, $3::jsonb) as r",
    [runId, name, payload === undefined ? null : JSON.stringify(payload)],
  );
  return onlyRow(rows, "signal").r;
}
