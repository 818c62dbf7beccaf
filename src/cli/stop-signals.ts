/**
 * The stop signals of a long-running command (`rowflow worker`, `rowflow
 * dev`): resolves on the first SIGTERM or SIGINT, when the command drains its
 * worker; a second one exits at once with code 130. `process.exit` runs the
 * process's 'exit' listeners, and an embedded Postgres started by
 * startEmbeddedPostgres has one that takes the server down, so a second
 * Ctrl-C does not leave a postmaster running on `.rowflow/pgdata` (Node's
 * default action for an unhandled signal skips those listeners). The parent
 * process exiting counts as a first SIGTERM (watchParent).
 */
export function stopSignals(options: { parentCheckMs?: number } = {}): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let count = 0;
    const onSignal = (signal: NodeJS.Signals, why?: string) => {
      if (why) console.error(`rowflow: ${why}`);
      count += 1;
      if (count > 1) process.exit(130);
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
