import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import {
  type EmbeddedPostgresServer,
  startEmbeddedPostgres,
} from "../embedded/embedded-postgres.js";
import {
  claimOwner,
  type OwnerClaim,
  runningOwner,
  type ServerOwner,
} from "../embedded/server-owner.js";

/** Where the CLI keeps its embedded Postgres when no DATABASE_URL is given. */
export const defaultEmbeddedDir = ".rowflow/pgdata";
/** Port the embedded Postgres tries first, so the printed psql command stays the same. */
export const defaultEmbeddedPort = 54329;

/** How long a command waits for another one to start or stop the embedded server. */
const ownerWaitMs = 120_000;
const ownerPollMs = 100;

/** A database for one CLI command: the given URL, or the embedded default. */
export interface CliDatabase {
  connectionString: string;
  /** The embedded server this command started, if any. */
  embedded: EmbeddedPostgresServer | undefined;
  /** The running command whose embedded server this command uses, if any. */
  joined: ServerOwner | undefined;
  /** Stops the embedded server, if one was started. */
  close(): Promise<void>;
}

/**
 * Uses `--database-url`, else `DATABASE_URL`, else the embedded Postgres whose
 * data persists in `.rowflow/pgdata` (created on first use): the server a
 * running `rowflow dev` or `rowflow worker` in this directory started, else
 * one this command starts. With `share`, a server this command starts is
 * offered to the others while it runs (long-running commands); a command that
 * holds the server without sharing it makes this one fail with who it is
 * (src/embedded/server-owner.ts).
 */
export async function openCliDatabase(options: {
  databaseUrl?: string | undefined;
  log: (line: string) => void;
  /** The command, named to the others (`migrate`, `dev`, …). */
  command: string;
  share?: boolean;
}): Promise<CliDatabase> {
  const url = options.databaseUrl ?? process.env.DATABASE_URL;
  if (url) {
    return { connectionString: url, embedded: undefined, joined: undefined, close: async () => {} };
  }
  const dataDir = path.resolve(defaultEmbeddedDir);
  const deadline = Date.now() + ownerWaitMs;
  let waitingFor: string | undefined;
  for (;;) {
    const owner = await runningOwner(dataDir);
    if (!owner) {
      const claim = await claimOwner(dataDir, {
        command: options.command,
        shared: options.share ?? false,
      });
      if (claim) return startOwn(dataDir, claim, options.log);
      continue; // another command claimed it meanwhile: look again
    }
    const who = `\`rowflow ${owner.command}\` (pid ${owner.pid})`;
    if (owner.state === "running" && owner.shared && owner.connectionString) {
      options.log(
        `No DATABASE_URL: using the embedded Postgres of the running ${who}: ${owner.connectionString}`,
      );
      return {
        connectionString: owner.connectionString,
        embedded: undefined,
        joined: owner,
        close: async () => {},
      };
    }
    if (!owner.shared && owner.state !== "stopping") {
      throw new Error(
        `the embedded Postgres in ${defaultEmbeddedDir} is in use by ${who}, which stops it when it finishes: ` +
          "wait for it to finish and try again (to keep the database up for other commands, run `rowflow dev --no-demo` or `rowflow worker` in a terminal of its own)",
      );
    }
    // A long-running command's server that is starting, or any that is stopping.
    const what = `${who} to ${owner.state === "starting" ? "start" : "stop"} the embedded Postgres in ${defaultEmbeddedDir}`;
    if (Date.now() > deadline) {
      throw new Error(`gave up waiting for ${what} after ${ownerWaitMs / 1000} s`);
    }
    if (waitingFor !== what) options.log(`No DATABASE_URL: waiting for ${what}…`);
    waitingFor = what;
    await sleep(ownerPollMs);
  }
}

async function startOwn(
  dataDir: string,
  claim: OwnerClaim,
  log: (line: string) => void,
): Promise<CliDatabase> {
  log(`No DATABASE_URL: using the embedded Postgres in ${defaultEmbeddedDir}`);
  let server: EmbeddedPostgresServer;
  try {
    server = await startEmbeddedPostgres({ dataDir, preferredPort: defaultEmbeddedPort });
  } catch (error) {
    claim.release();
    throw error;
  }
  const connectionString = server.connectionString("postgres");
  try {
    await claim.running(connectionString);
  } catch (error) {
    await server.stop();
    claim.release();
    throw error;
  }
  return {
    connectionString,
    embedded: server,
    joined: undefined,
    close: async () => {
      // Marked first: a command started meanwhile waits instead of joining a
      // server that is going away, or taking it for one a killed process left.
      await claim.stopping().catch(() => {});
      try {
        await server.stop();
      } finally {
        claim.release();
      }
    },
  };
}
