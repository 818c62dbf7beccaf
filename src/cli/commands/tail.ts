// `rowflow tail`: runs' transitions as they commit, one line each (or one
// JSON object per line with --json), until SIGINT/SIGTERM (then it ends by
// that signal, see src/cli/stop-signals.ts exitBySignal). The
// following is src/client/tail/ (LISTEN for prompt hints, polling so nothing
// is missed, each transition once); this file parses and prints. Reads only:
// a rowflow_viewer may run it (marking itself waiting for hints is allowed
// to every rowflow role).
import type { Command } from "commander";

import { RunListener } from "../../client/run-listener.js";
import { tailTransitions } from "../../client/tail/tail-transitions.js";
import type { Transition } from "../../client/tail/transition-cursor.js";
import {
  databaseOption,
  type DbOptions,
  parseInterval,
  runId,
  withDatabase,
} from "../operate-support.js";
import { positiveInteger } from "../parse-options.js";
import { stopSignals } from "../stop-signals.js";

interface TailCliOptions extends DbOptions {
  workflow?: string;
  run?: string;
  since?: string;
  interval?: number;
  json?: boolean;
}

/** The LISTEN connection's troubles go to stderr; tail keeps polling. */
const stderrLogger: ConstructorParameters<typeof RunListener>[1] = {
  debug: () => {},
  info: () => {},
  warn: (message) => console.error(`rowflow: ${message}`),
  error: (message) => console.error(`rowflow: ${message}`),
};

export function registerTail(program: Command): void {
  program
    .command("tail")
    .description("print runs' transitions as they happen (LISTEN, with polling as the fallback)")
    .option("--workflow <name>", "only this workflow's runs")
    .option("--run <id>", "only this run")
    .option("--since <interval>", "start this far back (30s, 15m, 12h, …; default: now)")
    .option(
      "--interval <ms>",
      "poll every n ms when no notification comes (default 1000)",
      positiveInteger,
    )
    .option("--json", "print one JSON object per line (NDJSON)")
    .option(...databaseOption)
    .action(async (options: TailCliOptions) => {
      const run = options.run === undefined ? undefined : runId(options.run);
      const since = options.since ? parseInterval(options.since) : null;
      const stop = new AbortController();
      void stopSignals().then(() => stop.abort());
      // `rowflow tail | head`: a closed pipe ends it quietly, as it does tail(1).
      process.stdout.on("error", (error: NodeJS.ErrnoException) => {
        if (error.code !== "EPIPE") throw error;
        stop.abort();
      });
      await withDatabase(options, async (client, url) => {
        // A connection that dies while idle fails the next read (exit 1, one line), not the process.
        client.on("error", () => {});
        // The timeline read is cheap but can look expensive to the planner (src/db/runs/transitions.ts).
        await client.query("set jit = off");
        const listener = new RunListener(url, stderrLogger, client);
        try {
          await tailTransitions(
            { db: client, listener },
            {
              workflow: options.workflow ?? null,
              runId: run ?? null,
              since,
              interval: options.interval ?? 1000,
              signal: stop.signal,
              onTransitions: (batch) => {
                for (const t of batch) console.log(options.json ? JSON.stringify(t) : line(t));
              },
            },
          );
        } finally {
          await listener.close();
        }
      });
    });
}

/** `2026-12-02 20:30:41.931 run 42 shop/charge step_retrying attempt 1: card declined; attempt 2 at …` */
function line(t: Transition): string {
  const time = t.at.replace("T", " ").slice(0, 23);
  const what = t.step === null ? t.workflow : `${t.workflow}/${t.step}`;
  const attempt = t.attempt === null ? "" : ` attempt ${t.attempt}`;
  const detail = t.detail === null ? "" : `: ${t.detail}`;
  return `${time} run ${t.runId} ${what} ${t.type}${attempt}${detail}`;
}
