/**
 * Who holds an embedded data directory. A CLI command that starts the
 * embedded Postgres first claims `<dataDir>.owner.json` (created exclusively,
 * so two commands started at once do not both run initdb), records its
 * connection string once the server is up, marks it stopping before it stops
 * the server, and removes the file after. Another command started in the same
 * directory meanwhile reads the file: it uses the server of a long-running
 * command (`rowflow dev`, `rowflow worker`: `shared`), waits for one that is
 * starting or stopping, and is told to wait for a short one (`rowflow
 * migrate`, `rowflow runs`), which stops the server when it finishes, instead
 * of being told that the data directory is "in use" by a killed process. A
 * file whose process is gone (killed with SIGKILL) is ignored, and the
 * live-server check of startEmbeddedPostgres reports the server it left behind.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";

/** What the owner file holds. */
export interface ServerOwner {
  pid: number;
  /** The command that started the server, e.g. `dev`. */
  command: string;
  /** Other commands may use the server while this one runs (a long-running command). */
  shared: boolean;
  state: "starting" | "running" | "stopping";
  /** Set once the server is up. */
  connectionString?: string | undefined;
}

/** This process's claim of a data directory's server. */
export interface OwnerClaim {
  /** Records that the server is up, at this connection string. */
  running(connectionString: string): Promise<void>;
  /** Records that the server is about to stop. */
  stopping(): Promise<void>;
  /** Removes the file (only if it is still ours). Safe to call more than once. */
  release(): void;
}

const ownerFile = (dataDir: string) => `${dataDir}.owner.json`;

/**
 * The live owner of `dataDir`'s server, or undefined: no owner file, one of
 * this process, or one whose process is gone (or is no longer rowflow: a pid
 * reused after a crash). A file of an older rowflow (no `state`; only `dev`
 * and `worker` wrote one) reads as a running shared server.
 */
export async function runningOwner(dataDir: string): Promise<ServerOwner | undefined> {
  const owner = await readOwner(dataDir);
  if (!owner || owner.pid === process.pid) return undefined;
  return isRowflowProcess(owner.pid) ? owner : undefined;
}

/**
 * Claims `dataDir` for this process, before it starts the server. Returns
 * undefined when a live process holds it (read it with runningOwner); a file
 * left by a dead process is replaced. The file is also removed if the process
 * exits without release() (process.exit after a second Ctrl-C).
 */
export async function claimOwner(
  dataDir: string,
  owner: { command: string; shared: boolean },
): Promise<OwnerClaim | undefined> {
  const file = ownerFile(dataDir);
  let record: ServerOwner = { pid: process.pid, ...owner, state: "starting" };
  const text = () => `${JSON.stringify(record)}\n`;
  await mkdir(path.dirname(file), { recursive: true });
  for (let attempt = 1; ; attempt++) {
    try {
      await writeFile(file, text(), { flag: "wx" });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (await runningOwner(dataDir)) return undefined;
      if (attempt === 3) throw error;
    }
    // Left by a dead process. Two commands replacing the same stale file at
    // once may both go on; the second start is then refused by the
    // live-server check or by Postgres itself, as it was before claims.
    await rm(file, { force: true });
  }
  const update = async (change: Partial<ServerOwner>) => {
    record = { ...record, ...change };
    const temporary = `${file}.${process.pid}`;
    await writeFile(temporary, text());
    await rename(temporary, file);
  };
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.removeListener("exit", release);
    // Only our own file: a later owner may have replaced it.
    try {
      const current = JSON.parse(readFileSync(file, "utf8")) as { pid?: unknown };
      if (current.pid === process.pid) rmSync(file, { force: true });
    } catch {
      // gone already, or unreadable: nothing of ours to remove
    }
  };
  process.once("exit", release);
  return {
    running: (connectionString) => update({ state: "running", connectionString }),
    stopping: () => update({ state: "stopping" }),
    release,
  };
}

async function readOwner(dataDir: string): Promise<ServerOwner | undefined> {
  const text = await readFile(ownerFile(dataDir), "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  let raw: Partial<ServerOwner>;
  try {
    raw = JSON.parse(text) as Partial<ServerOwner>;
  } catch {
    return undefined;
  }
  const { pid, command, connectionString } = raw;
  if (typeof pid !== "number" || !Number.isInteger(pid) || pid <= 0) return undefined;
  if (connectionString !== undefined && typeof connectionString !== "string") return undefined;
  const state = raw.state ?? "running";
  if (!["starting", "running", "stopping"].includes(state)) return undefined;
  if (state === "running" && connectionString === undefined) return undefined;
  return {
    pid,
    command: typeof command === "string" ? command : "rowflow",
    shared: raw.shared ?? true,
    state,
    connectionString,
  };
}

function isRowflowProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const cmdline = `/proc/${pid}/cmdline`;
  if (!existsSync("/proc/self/cmdline")) return true; // no procfs: trust the file
  try {
    return readFileSync(cmdline, "utf8").includes("rowflow");
  } catch {
    return false;
  }
}
