/**
 * Who serves an embedded data directory: a long-running command (`rowflow
 * dev`, `rowflow worker`) that started the embedded Postgres writes
 * `<dataDir>.owner.json` with its pid and connection string, and removes it
 * when it stops. Another command started in the same directory while it runs
 * (a second terminal's `rowflow runs`, `psql`'s neighbour) then uses that
 * server instead of refusing a data directory "in use". A file whose process
 * is gone (killed with SIGKILL) is ignored, and the live-server check of
 * startEmbeddedPostgres reports the server it left behind.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { readFile, rename, writeFile } from "node:fs/promises";

/** What the owner file holds. */
export interface ServerOwner {
  pid: number;
  /** The command that started the server, e.g. `dev`. */
  command: string;
  connectionString: string;
}

const ownerFile = (dataDir: string) => `${dataDir}.owner.json`;

/**
 * The live owner of `dataDir`'s server, or undefined: no owner file, one of
 * this process, or one whose process is gone (or is no longer rowflow: a pid
 * reused after a crash).
 */
export async function runningOwner(dataDir: string): Promise<ServerOwner | undefined> {
  const text = await readFile(ownerFile(dataDir), "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  let owner: ServerOwner;
  try {
    owner = JSON.parse(text) as ServerOwner;
  } catch {
    return undefined;
  }
  if (!Number.isInteger(owner.pid) || owner.pid <= 0 || owner.pid === process.pid) return undefined;
  if (typeof owner.connectionString !== "string") return undefined;
  return isRowflowProcess(owner.pid) ? owner : undefined;
}

/**
 * Records this process as the owner of `dataDir`'s server. Returns the
 * function that removes the file; it is also removed if the process exits
 * without calling it (process.exit after a second Ctrl-C).
 */
export async function publishOwner(
  dataDir: string,
  owner: Omit<ServerOwner, "pid">,
): Promise<() => void> {
  const file = ownerFile(dataDir);
  const temporary = `${file}.${process.pid}`;
  await writeFile(temporary, `${JSON.stringify({ pid: process.pid, ...owner })}\n`);
  await rename(temporary, file);
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    process.removeListener("exit", remove);
    // Only our own file: a later owner may have replaced it.
    try {
      const current = JSON.parse(readFileSync(file, "utf8")) as { pid?: unknown };
      if (current.pid === process.pid) rmSync(file, { force: true });
    } catch {
      // gone already, or unreadable: nothing of ours to remove
    }
  };
  process.once("exit", remove);
  return remove;
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
