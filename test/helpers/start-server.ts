import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { startEmbeddedPostgres } from "../../src/embedded/embedded-postgres.js";
import type { ServerChoice } from "./select-server.js";

/** A Postgres server the suite can create databases on. */
export interface TestServer {
  /** Human-readable origin, printed once at start. */
  description: string;
  /** URL of a database with the right to CREATE DATABASE. */
  adminUrl: string;
  stop(): Promise<void>;
}

export async function startTestServer(choice: ServerChoice): Promise<TestServer> {
  switch (choice.kind) {
    case "url":
      return { description: "DATABASE_URL", adminUrl: choice.url, stop: async () => {} };
    case "testcontainers": {
      const { PostgreSqlContainer } = await import("@testcontainers/postgresql");
      const container = await new PostgreSqlContainer("postgres:15-alpine").start();
      return {
        description: `testcontainers postgres:15-alpine (${container.getHost()}:${container.getPort()})`,
        adminUrl: container.getConnectionUri(),
        stop: async () => {
          await container.stop();
        },
      };
    }
    case "embedded": {
      // The temp dir itself is the data directory: as root, embedded-postgres
      // chowns it to the `postgres` user, which must be able to enter it.
      const dataDir = await mkdtemp(path.join(tmpdir(), "rowflow-test-pg-"));
      const server = await startEmbeddedPostgres({ dataDir, persistent: false, unsafeFast: true });
      return {
        description: `embedded Postgres (port ${server.port}, data ${dataDir})`,
        adminUrl: server.connectionString("postgres"),
        stop: () => server.stop(),
      };
    }
  }
}
