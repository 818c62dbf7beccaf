// `rowflow signal <run> <name> [--payload <json>]`: one call of rowflow.signal
// (sql/schema/78_waits/signal.sql). The function never raises for the run's
// state, so the command prints what became of the signal and says it with
// its exit code: 0 delivered (a waiting step took it) or kept (stored for a
// step that waits for it later); 3 unexpected (no step of the run waits for
// it), run_finished, unknown_run, so a script sees a signal nobody will take.
// Bad usage (a run id that is not a number, --payload that is not JSON) exits 2.
import type { Command } from "commander";

import { sendSignal, type SignalResult } from "../../db/waits/signals.js";
import {
  databaseOption,
  type DbOptions,
  jsonOption,
  runId,
  withDatabase,
} from "../operate-support.js";

/** The exit code of a signal that no step of the run took nor will take. */
export const SIGNAL_NOT_TAKEN = 3;

export function registerSignal(program: Command): void {
  program
    .command("signal <run> <name>")
    .description(
      "send a named signal to a run: the step waiting for it succeeds with the payload (rowflow.signal)",
    )
    .option("--payload <json>", "the signal's payload, JSON: the waiting step's output")
    .option("--json", "print the function's answer as JSON")
    .option(...databaseOption)
    .action(
      async (
        run: string,
        name: string,
        options: DbOptions & { payload?: string; json?: boolean },
      ) => {
        const id = runId(run);
        const payload =
          options.payload === undefined ? undefined : jsonOption("--payload", options.payload);
        const r = await withDatabase(options, (c) => sendSignal(c, id, name, payload));
        console.log(options.json ? JSON.stringify(r, null, 2) : signalLine(id, name, r));
        if (!r.ok) process.exitCode = SIGNAL_NOT_TAKEN;
      },
    );
}

function signalLine(run: string, name: string, r: SignalResult): string {
  const head = `signal ${name} to run ${run}`;
  switch (r.status) {
    case "delivered":
      return (
        `${head}: delivered to step ${r.step}` +
        (r.released.length > 0 ? `; released ${r.released.join(", ")}` : "") +
        `; run ${r.runStatus}`
      );
    case "kept":
      return `${head}: kept for step ${r.waitedBy.join(", ")}, which has not started waiting yet`;
    case "unexpected":
      return `${head}: unexpected: ${r.message}`;
    case "run_finished":
      return `${head}: the run is ${r.runStatus}; stored as signal ${r.signal}, taken by no step`;
    case "unknown_run":
      return `${head}: unknown run; nothing stored`;
  }
}
