// `rowflow wait`: waits until a batch of runs has ended — no run of the
// workflow (or of any), created since --since, is queued, running or
// compensating any more — then prints the counts by status
// (rowflow.run_counts). Progress goes to stderr whenever the counts change;
// the result to stdout (a table, or one JSON object with --json). Exit 0 once
// nothing is active, 1 on --timeout (or an error), 2 usage; SIGINT/SIGTERM
// stop it, and it ends by that signal as tail does. Reads only: a
// rowflow_viewer may run it.
import type { Command } from "commander";

import { RunListener } from "../../client/run-listener.js";
import { waitForRuns } from "../../client/wait-for-runs.js";
import type { RunCounts } from "../../db/runs/run-counts.js";
import {
  databaseOption,
  type DbOptions,
  parseInterval,
  print,
  render,
  withDatabase,
} from "../operate-support.js";
import { duration, positiveInteger } from "../parse-options.js";
import { stopSignals } from "../stop-signals.js";

interface WaitCliOptions extends DbOptions {
  workflow?: string;
  since?: string;
  timeout?: number;
  interval?: number;
  json?: boolean;
}

const quietLogger: ConstructorParameters<typeof RunListener>[1] = {
  debug: () => {},
  info: () => {},
  warn: (message) => console.error(`rowflow: ${message}`),
  error: (message) => console.error(`rowflow: ${message}`),
};

export function registerWait(program: Command): void {
  program
    .command("wait")
    .description(
      "wait until no run (of --workflow, since --since) is queued or running; print counts",
    )
    .option("--workflow <name>", "only this workflow's runs")
    .option(
      "--since <when>",
      "only runs created since: an interval back from now (30s, 15m, 12h, …) or a timestamp",
    )
    .option("--timeout <duration>", "give up after this long (30s, 5m, …): exit 1", duration)
    .option(
      "--interval <ms>",
      "re-read every n ms when no notification comes (default 1000)",
      positiveInteger,
    )
    .option("--json", "print the final counts as JSON")
    .option(...databaseOption)
    .action(async (options: WaitCliOptions) => {
      const stop = new AbortController();
      void stopSignals().then(() => stop.abort());
      const counts = await withDatabase(options, async (client, url) => {
        client.on("error", () => {});
        const since =
          options.since === undefined ? undefined : await sinceTime(client, options.since);
        const listener = new RunListener(url, quietLogger, client);
        let last = "";
        try {
          return await waitForRuns(
            { db: client, listener, pollInterval: options.interval ?? 1000 },
            { workflow: options.workflow, since },
            {
              timeout: options.timeout,
              signal: stop.signal,
              onProgress: (c) => {
                const text = summary(c);
                if (text !== last && !options.json) console.error(text);
                last = text;
              },
            },
          );
        } catch (error) {
          // SIGINT/SIGTERM: stop waiting; main.ts ends the process by that signal.
          if (stop.signal.aborted) return undefined;
          throw error;
        } finally {
          await listener.close();
        }
      });
      if (counts === undefined) return;
      print(options.json ?? false, counts, () =>
        render(Object.keys(counts), [Object.values(counts)]),
      );
    });
}

/** `--since 15m` is 15 minutes before the database's now, read once; a timestamp is taken as is. */
async function sinceTime(
  client: { query(text: string, values: unknown[]): Promise<{ rows: Array<{ t: Date }> }> },
  text: string,
): Promise<Date> {
  const isTime = /^\d{4}-\d{2}-\d{2}/.test(text.trim());
  const { rows } = await client.query(
    isTime ? "select $1::timestamptz as t" : "select now() - $1::interval as t",
    [isTime ? text : parseInterval(text)],
  );
  return rows[0]!.t;
}

/** `active 12 (queued 2, running 10, compensating 0) · succeeded 980 · failed 8 · cancelled 0 · total 1000` */
function summary(c: RunCounts): string {
  return `active ${c.active} (queued ${c.queued}, running ${c.running}, compensating ${c.compensating}) · succeeded ${c.succeeded} · failed ${c.failed} · cancelled ${c.cancelled} · total ${c.total}`;
}
