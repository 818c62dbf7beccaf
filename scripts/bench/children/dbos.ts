import { DBOS } from "@dbos-inc/dbos-sdk";

import { dbosSettings, quietDbosLogger } from "../peer-settings.js";

/**
 * Configures DBOS on `url` as its system database (the variant's own
 * database; schema "dbos", created by the parent) and launches it: the queue
 * registered by the parent (`concurrency` workflows per process) is dispatched
 * from then on. Register the workflows before calling this. The pool: one
 * connection per concurrent workflow plus two, as graphile-worker's.
 */
export async function launchDbos(url: string, concurrency: number): Promise<() => Promise<void>> {
  DBOS.setConfig({
    name: dbosSettings.appName,
    systemDatabaseUrl: url,
    systemDatabasePoolSize: concurrency + 2,
    runMigrations: false,
    logger: quietDbosLogger,
  });
  await DBOS.launch();
  // The last workflows are still writing their final checkpoints when the count is reached.
  return () => DBOS.shutdown({ workflowCompletionTimeoutMS: 5_000 });
}
