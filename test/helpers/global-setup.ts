import { randomBytes } from "node:crypto";

import pg from "pg";
import type { TestProject } from "vitest/node";

import { migrate } from "../../src/db/migrate.js";
import { withDatabase } from "./database-url.js";
import { probeContainerRuntime, selectServer } from "./select-server.js";
import { startTestServer } from "./start-server.js";

declare module "vitest" {
  export interface ProvidedContext {
    rowflowDb: { adminUrl: string; template: string; runId: string };
  }
}

/**
 * Runs once per `vitest run`: picks the server, migrates a template database,
 * and hands its name to the test files, which clone it (test/helpers/db.ts).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const choice = await selectServer({
    env: process.env,
    containerRuntimeAvailable: probeContainerRuntime,
  });
  const server = await startTestServer(choice);
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
  const template = `rowflow_tpl_${runId}`;
  const admin = new pg.Client({ connectionString: server.adminUrl });
  try {
    await admin.connect();
    await admin.query(`create database ${admin.escapeIdentifier(template)}`);
    await migrate({ connectionString: withDatabase(server.adminUrl, template) });
  } catch (error) {
    await admin.end().catch(() => {});
    await server.stop();
    throw error;
  }
  await admin.end();
  console.log(`[rowflow tests] ${server.description}; template database ${template}`);
  project.provide("rowflowDb", { adminUrl: server.adminUrl, template, runId });

  return async () => {
    const client = new pg.Client({ connectionString: server.adminUrl });
    await client.connect();
    try {
      await client.query(
        `drop database if exists ${client.escapeIdentifier(template)} with (force)`,
      );
    } finally {
      await client.end();
    }
    await server.stop();
  };
}
