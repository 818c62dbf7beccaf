/**
 * The stop signals of a long-running command (`rowflow worker`, `rowflow
 * dev`): resolves on the first SIGTERM or SIGINT, when the command drains its
 * worker; a second one exits at once with code 130. `process.exit` runs the
 * process's 'exit' listeners, and an embedded Postgres started by
 * startEmbeddedPostgres has one that takes the server down, so a second
 * Ctrl-C does not leave a postmaster running on `.rowflow/pgdata` (Node's
 * default action for an unhandled signal skips those listeners).
 */
export function stopSignals(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let count = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      count += 1;
      if (count > 1) process.exit(130);
      resolve(signal);
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
}
