// What the operator commands share (src/cli/commands/operate-*.ts): the
// database of a command, argument parsing, and the table and JSON output.
// Tables: cli-table3, the most used table renderer for Node CLIs.
import Table from "cli-table3";
import pg from "pg";

import { openCliDatabase } from "../config/open-database.js";

export interface DbOptions {
  databaseUrl?: string;
}

/** The command being run (`runs`, `show`, …), set before its action (src/cli/main.ts). */
export const invocation = { command: "rowflow" };

/**
 * Runs `fn` with a client on the command's database (--database-url,
 * $DATABASE_URL, else embedded) and its connection string (for a second
 * connection, such as tail's LISTEN).
 */
export async function withDatabase<T>(
  options: DbOptions,
  fn: (client: pg.Client, connectionString: string) => Promise<T>,
): Promise<T> {
  const database = await openCliDatabase({
    databaseUrl: options.databaseUrl,
    log: (line) => console.error(line),
    command: invocation.command,
  });
  const client = new pg.Client({
    connectionString: database.connectionString,
    application_name: "rowflow cli",
  });
  try {
    await client.connect();
    return await fn(client, database.connectionString);
  } catch (error) {
    // Interval text that parseInterval passed on and Postgres cannot read
    // ("5 dayz") is the command line's mistake too; no other interval text is sent.
    const { code, message } = error as { code?: string; message?: string };
    if ((code === "22007" || code === "22015") && message?.includes("interval")) {
      throw new UsageError(`${message} (${intervalForms})`);
    }
    throw error;
  } finally {
    await client.end().catch(() => {});
    await database.close();
  }
}

export const databaseOption = [
  "--database-url <url>",
  "Postgres connection string (default: $DATABASE_URL, else the embedded Postgres in .rowflow/)",
] as const;

const intervalForms =
  "expected 30d, 12h, 15m, 45s, 2w or a Postgres interval such as '2 hours 30 minutes'";

/**
 * "30d", "12h", "15m", "45s", "2w", or any Postgres interval text ("30 days"),
 * which Postgres reads (and withDatabase turns its syntax error into a usage
 * error). Checked here, before a database is opened: text without a number
 * ("abc") and a negative interval ("-1d", "1 day ago"), which every interval
 * option and argument of the CLI refuses, are usage errors (exit 2).
 */
export function parseInterval(text: string): string {
  const trimmed = text.trim();
  const short = /^(\d+)\s*([smhdw])$/.exec(trimmed);
  if (short) {
    const unit = { s: "seconds", m: "minutes", h: "hours", d: "days", w: "weeks" }[short[2]!]!;
    return `${short[1]} ${unit}`;
  }
  if (!/\d/.test(trimmed)) throw new UsageError(`not an interval: '${text}' (${intervalForms})`);
  if (/^[@\s]*-|\bago\s*$/i.test(trimmed)) {
    throw new UsageError(`a negative interval: '${text}' (an interval here is 0 or more)`);
  }
  return trimmed;
}

export function runId(text: string): string {
  if (!/^[1-9]\d{0,18}$/.test(text)) throw new UsageError(`not a run id: ${text}`);
  return text;
}

/** A mistake in the command line: exit code 2. */
export class UsageError extends Error {}

export function print(json: boolean, value: unknown, table: () => string): void {
  console.log(json ? JSON.stringify(value, null, 2) : table());
}

export function render(head: string[], rows: unknown[][]): string {
  // Compact: no rule between body rows.
  const table = new Table({
    head,
    style: { head: [], border: [] },
    chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" },
  });
  for (const row of rows) table.push(row.map((cell) => (cell === null ? "" : String(cell))));
  return table.toString();
}

export const time = (value: unknown) =>
  value instanceof Date ? value.toISOString().replace("T", " ").slice(0, 19) : value;

export function errorMessage(error: unknown): string | null {
  if (!error || typeof error !== "object") return null;
  const e = error as { message?: unknown; error?: { message?: unknown } };
  const message = e.message ?? e.error?.message;
  return typeof message === "string" ? message.split("\n")[0]!.slice(0, 80) : null;
}
