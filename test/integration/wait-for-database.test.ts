// waitForDatabase: a server that starts answering during the wait is
// connected to (here a TCP proxy to the test database that opens its port
// after the first failed attempt); the bound is kept even when the server
// accepts connections but never answers them (a connect timeout per attempt).
import net from "node:net";

import { afterEach, describe, expect, it } from "vitest";

import { waitForDatabase } from "../../src/db/session/wait-for-database.js";
import { findFreePort } from "../../src/embedded/free-port.js";
import { ConnectionError } from "../../src/errors.js";
import { useTestDatabase } from "../helpers/db.js";

const db = useTestDatabase();
const servers: net.Server[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) {
    await new Promise((resolve) => server.close(resolve));
  }
});

function listen(port: number, onSocket: (socket: net.Socket) => void): Promise<void> {
  const server = net.createServer((socket) => {
    sockets.push(socket);
    onSocket(socket);
  });
  servers.push(server);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
}

describe("waitForDatabase", () => {
  it("connects once the server comes up, after warning of each failed attempt", async () => {
    const target = new URL(db.url);
    const port = await findFreePort();
    const url = new URL(db.url);
    url.host = `127.0.0.1:${port}`;
    const warnings: string[] = [];
    let proxying: Promise<void> | undefined;
    const connected = await waitForDatabase({
      connectionString: url.toString(),
      logger: {
        info: () => {},
        warn: (line) => {
          warnings.push(line);
          // The server comes up after the first failure.
          proxying ??= listen(port, (client) => {
            const upstream = net.connect(Number(target.port || 5432), target.hostname);
            sockets.push(upstream);
            client.pipe(upstream).pipe(client);
            client.on("error", () => upstream.destroy());
            upstream.on("error", () => client.destroy());
          });
        },
      },
      firstDelay: 50,
      maxDelay: 200,
      signal: new AbortController().signal,
      timeoutMs: 20_000,
    });
    expect(connected).toBe(true);
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(warnings[0]).toMatch(
      new RegExp(
        `^cannot connect to Postgres at 127\\.0\\.0\\.1:${port} .*ECONNREFUSED.*\\(attempt 1\\); retrying in 50 ms$`,
      ),
    );
  });

  it("keeps its bound against a server that accepts and never answers", async () => {
    const port = await findFreePort();
    await listen(port, () => {}); // accepts the TCP connection, says nothing
    const started = Date.now();
    const waiting = waitForDatabase({
      connectionString: `postgres://rowflow@127.0.0.1:${port}/app`,
      logger: { info: () => {}, warn: () => {} },
      firstDelay: 50,
      maxDelay: 200,
      signal: new AbortController().signal,
      timeoutMs: 800,
    });
    const error = await waiting.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^cannot connect to Postgres at 127\\.0\\.0\\.1:${port} \\(database "app", user "rowflow"\\): .*\\(gave up after \\d+ ms and 1 attempt\\)$`,
      ),
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("resolves false when stopped while waiting", async () => {
    const port = await findFreePort();
    const stop = new AbortController();
    const connected = await waitForDatabase({
      connectionString: `postgres://rowflow@127.0.0.1:${port}/app`,
      logger: { info: () => {}, warn: () => stop.abort() },
      firstDelay: 60_000,
      maxDelay: 60_000,
      signal: stop.signal,
    });
    expect(connected).toBe(false);
  });
});
