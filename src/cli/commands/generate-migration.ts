import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

import type { Command } from "commander";

import { findConfigFile, loadConfig } from "../../config/config.js";
import {
  migrationTimestamp,
  type MigrationWorkflow,
  renderWorkflowMigration,
} from "../../triggers/render-migration.js";

interface GenerateMigrationOptions {
  config?: string;
  out: string;
}

export function registerGenerateMigration(program: Command): void {
  program
    .command("generate-migration")
    .description(
      "write a SQL migration with define_workflow, attach and define_schedule calls for the config's workflows and schedules",
    )
    .argument("<name>", "migration name: lower-case letters, digits and underscores")
    .option("--config <path>", "config module (default: ./rowflow.config.ts, .mts, .js or .mjs)")
    .option("--out <dir>", "directory to write the file to", "migrations")
    .action(async (name: string, options: GenerateMigrationOptions) => {
      if (!/^[a-z0-9_]{1,100}$/.test(name)) {
        throw new Error(`migration name must match [a-z0-9_]{1,100}, got ${JSON.stringify(name)}`);
      }
      const config = await loadConfig(findConfigFile(options.config));
      const workflows = (config.workflows ?? []) as readonly MigrationWorkflow[];
      const now = new Date();
      const schedules = config.schedules ?? [];
      const sql = renderWorkflowMigration(workflows, { name, generatedAt: now, schedules });
      const dir = path.resolve(options.out);
      await mkdir(dir, { recursive: true });
      const file = path.join(dir, `${migrationTimestamp(now)}_${name}.sql`);
      await writeFile(file, sql, { flag: "wx" }); // never overwrite
      const attachments = workflows.reduce((n, w) => n + (w.attachments?.length ?? 0), 0);
      console.log(
        `wrote ${path.relative(process.cwd(), file) || file}: ${workflows.length} workflow(s), ${attachments} attachment(s)${schedules.length > 0 ? `, ${schedules.length} schedule(s)` : ""}`,
      );
    });
}
