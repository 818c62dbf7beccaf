import { constants } from "node:os";

/** The stop signal a long-running command received first, if any (see exitBySignal). */
let received: NodeJS.Signals | undefined;

/**
 * The stop signals of a long-running command (`rowflow worker`, `rowflow
 * dev`, `rowflow tail`): resolves on the first SIGTERM or SIGINT, when the
 * command drains its worker; once it has, main.ts ends the process by that
 * signal (exitBySignal). A second one exits at once with code 130.
 * `process.exit` runs the process's 'exit' listeners, and an embedded
 * Postgres started by startEmbeddedPostgres has one that takes the server
 * down, so a second Ctrl-C does not leave a postmaster running on
 * `.rowflow/pgdata` (Node's default action for an unhandled signal skips
 * those listeners). The parent process exiting counts as a first SIGTERM
 * (watchParent).
 */
export function stopSignals(options: { parentCheckMs?: number } = {}): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let count = 0;
    const onSignal = (signal: NodeJS.Signals, why?: string) => {
      if (why) console.error(`rowflow: ${why}`);
      count += 1;
      if (count > 1) process.exit(130);
      received ??= signal;
      resolve(signal);
    };
    process.on("SIGTERM", () => onSignal("SIGTERM"));
    process.on("SIGINT", () => onSignal("SIGINT"));
    // An orphaned process stops as on a first SIGTERM; after a signal (Ctrl-C
    // reaches npm and node alike, and npm exits at once) it is not a second one.
    watchParent(() => {
      if (count === 0) onSignal("SIGTERM", "the parent process exited; stopping as on SIGTERM");
    }, options.parentCheckMs ?? 500);
  });
}

/** The first stop signal of this process's stopSignals, or undefined when none came. */
export function receivedStopSignal(): NodeJS.Signals | undefined {
  return received;
}

/**
 * Ends the process by `signal`, as a Unix program stopped by a signal does
 * once it has cleaned up: the parent sees a death by SIGINT or SIGTERM (a
 * shell reports 130 or 143), however the command was started. npm and npx
 * already end that way (they re-raise the signal their child died of), so
 * `node bin/rowflow.js worker` and `npx rowflow worker` now report the same,
 * and process managers that expect this convention see it.
 *
 * The signal's default action skips the 'exit' listeners that
 * `process.exit` runs: the embedded server's owner record is removed there,
 * an embedded Postgres not stopped yet is taken down there, and a pino logger
 * of the config's with an asynchronous destination writes out its buffered
 * lines there (rowflow's default logger writes synchronously:
 * src/logging/default-logger.ts).
 * So this goes through `process.exit`, and the signal is raised from an
 * 'exit' listener added last, after all of those have run. Pending writes to
 * stdout and stderr (asynchronous on pipes) are waited for first.
 */
export async function exitBySignal(signal: NodeJS.Signals): Promise<never> {
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.once("exit", () => {
    // Back to the default action (ours and any a config module added), then raise it.
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  });
  // The code a shell reports for that signal, should the process outlive it.
  process.exit(128 + constants.signals[signal]);
}

/** Resolves once what was written to `stream` so far has been handed to the OS. */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.destroyed || !stream.writable) return Promise.resolve();
  return new Promise((resolve) => stream.write("", () => resolve()));
}

/**
 * A wrapper that dies without passing on its SIGTERM leaves this process
 * orphaned: `npx rowflow worker` (npm 11 exits 143 and does not forward it),
 * `sh -c "…; node bin/rowflow.js worker"` (sh does not forward it either).
 * Once the parent process is gone (the parent pid changed: the orphan was
 * re-parented to init or a subreaper), `onOrphaned` is called once, as if a
 * SIGTERM had come, so the worker drains and exits instead of running on
 * unsupervised. A process started by init itself (parent pid 1, as in a
 * container with an init) is not watched.
 */
function watchParent(onOrphaned: () => void, intervalMs: number): void {
  const parent = process.ppid;
  if (parent <= 1) return;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onOrphaned();
  }, intervalMs);
  timer.unref();
}
