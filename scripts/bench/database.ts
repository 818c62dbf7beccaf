import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { migrate } from "../../src/db/migrate.js";
import { startEmbeddedPostgres } from "../../src/embedded/embedded-postgres.js";
import { type MachineLoad, withMachineLoad } from "./machine-load.js";
import { query } from "./pg-client.js";

/** The server the benchmarks run on, and fresh migrated databases on it. */
export interface BenchServer {
  description: string;
  adminUrl: string;
  /** A new database cloned from the migrated template, for one variant's run. */
  freshDatabase(variant: string): Promise<BenchDatabase>;
  /** Server version and the settings that matter for the figures. */
  facts(): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

export interface BenchDatabase {
  url: string;
  /**
   * Runs a variant's measured part (not its set-up): --wait-events samples
   * it, and the machine's load around it is recorded (machine-load.ts) for
   * the samples the scenario records next.
   */
  measure<T>(fn: () => Promise<T>): Promise<T>;
  drop(): Promise<void>;
}

/** Told when a database's measured part starts and ends (--wait-events). */
export interface MeasureHooks {
  started(database: string, variant: string): void;
  ended(database: string, load: MachineLoad): void;
}

/**
 * DATABASE_URL if set, else an embedded Postgres with durable settings
 * (synchronous_commit on) plus `settings` (`--pg-setting`; embedded only).
 */
export async function openBenchServer(
  settings: Record<string, string> = {},
  hooks?: MeasureHooks,
  dbPrefix = "rowflow_bench",
): Promise<BenchServer> {
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(dbPrefix)) {
    throw new Error(`--db-prefix must be 1-41 characters a-z, 0-9 or "_", got "${dbPrefix}"`);
  }
  let adminUrl = process.env.DATABASE_URL;
  let description = "DATABASE_URL";
  let stopServer = async () => {};
  if (adminUrl && Object.keys(settings).length > 0) {
    throw new Error(
      "--pg-setting applies to the embedded server; set them on DATABASE_URL's server instead",
    );
  }
  if (!adminUrl) {
    const dataDir = await mkdtemp(path.join(tmpdir(), "rowflow-bench-pg-"));
    const server = await startEmbeddedPostgres({ dataDir, persistent: false, settings });
    adminUrl = server.connectionString("postgres");
    description = `embedded Postgres (port ${server.port})`;
    stopServer = async () => {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    };
  }
  const admin = adminUrl;
  const runId = randomBytes(3).toString("hex");
  const template = `${dbPrefix}_tpl_${runId}`;
  await adminQuery(admin, `create database ${template}`);
  await migrate({ connectionString: withDatabase(admin, template) });
  let n = 0;
  return {
    description,
    adminUrl: admin,
    async freshDatabase(variant) {
      const name = `${dbPrefix}_${runId}_${++n}`;
      await adminQuery(admin, `create database ${name} template ${template}`);
      return {
        url: withDatabase(admin, name),
        async measure(fn) {
          hooks?.started(name, variant);
          const { result, load } = await withMachineLoad(fn);
          hooks?.ended(name, load);
          return result;
        },
        drop: () => adminQuery(admin, `drop database if exists ${name} with (force)`),
      };
    },
    async facts() {
      const rows = await query<{ name: string; setting: string }>(
        admin,
        `select name, setting from pg_settings where name in
             ('server_version', 'synchronous_commit', 'fsync', 'shared_buffers', 'max_connections',
              'wal_level', 'full_page_writes', 'commit_delay', 'autovacuum_naptime')
             or name = any ($1::text[])
           order by name`,
        [Object.keys(settings)],
      );
      return Object.fromEntries(rows.map((r) => [r.name, r.setting]));
    },
    async stop() {
      await adminQuery(admin, `drop database if exists ${template} with (force)`);
      await stopServer();
    },
  };
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function adminQuery(url: string, sql: string): Promise<void> {
  await query(url, sql);
}
