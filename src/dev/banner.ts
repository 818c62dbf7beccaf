import type { CliDatabase } from "../config/open-database.js";

const defaultTryInPsql = [
  "select id, workflow, status, created_at from rowflow.runs order by id desc limit 10;",
  "select run_id, step, status, attempt from rowflow.step_runs order by run_id desc, step limit 20;",
  "select at, step, type, attempt from rowflow.run_timeline where run_id = (select max(id) from rowflow.runs) order by at, ord, step;",
  "select * from rowflow.attachments;",
];

export interface BannerOptions {
  database: CliDatabase;
  configFile: string;
  /** The worker's task names. */
  tasks: readonly string[];
  /** With the demo: the config's statements to try (undefined: the defaults). */
  demo: { tryInPsql: readonly string[] | undefined } | undefined;
  once: boolean;
  /** The dashboard's address, when it runs. */
  dashboardUrl?: string | undefined;
}

/**
 * What `rowflow dev` prints once its worker runs: where the database is, the
 * `psql` line, and either statements to try (with the demo) or how to use the
 * database from a second terminal (`--no-demo`).
 */
export function printBanner(say: (line: string) => void, options: BannerOptions): void {
  const { database } = options;
  say("");
  const owner =
    database.joined && `\`rowflow ${database.joined.command}\` (pid ${database.joined.pid})`;
  const where = database.embedded
    ? ` on the embedded Postgres (data in ${database.embedded.dataDir})`
    : owner
      ? ` on the embedded Postgres of ${owner}`
      : "";
  say(
    `rowflow dev is running${where}, with a worker for ${options.configFile} (tasks: ${options.tasks.join(", ") || "none"}).`,
  );
  say(`  psql "${database.connectionString}"`);
  if (options.dashboardUrl) say(`  dashboard ${options.dashboardUrl}`);
  if (options.demo) {
    say("Try:");
    for (const statement of options.demo.tryInPsql ?? defaultTryInPsql) say(`  ${statement}`);
  } else {
    say("In a second terminal, run the psql line above to paste SQL;");
    say(
      database.embedded
        ? "rowflow commands started in this directory (npx rowflow runs, show, migrate, …) use this database while rowflow dev runs."
        : owner
          ? `rowflow commands started in this directory (npx rowflow runs, show, migrate, …) use this database while ${owner} runs; it stops the database when it stops.`
          : "rowflow commands there need the same database: --database-url or DATABASE_URL.",
    );
  }
  say(options.once ? "" : "Press Ctrl-C to stop.\n");
}
