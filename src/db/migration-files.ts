import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

import { ErrorCodes, MigrationError } from "../errors.js";

/** A migration file from `sql/migrations`. */
export interface MigrationFile {
  /** File name, e.g. `000001_init.sql`; also the key recorded in `rowflow.migrations`. */
  name: string;
  /** The number prefix. */
  number: number;
  /** SQL text. */
  sql: string;
  /** Hex SHA-256 of the file's bytes. */
  checksum: string;
}

/** The folder holding rowflow's migrations (works from `src/db` and `dist/db`). */
export const defaultMigrationsDir = fileURLToPath(
  new URL("../../sql/migrations/", import.meta.url),
);

const fileNamePattern = /^(\d{6})_[a-z0-9_]+\.sql$/;

/** Reads and orders the migration files of a folder; rejects badly named `.sql` files. */
export async function readMigrationFiles(dir = defaultMigrationsDir): Promise<MigrationFile[]> {
  const names = (await readdir(dir)).filter((name) => name.endsWith(".sql")).sort();
  const files: MigrationFile[] = [];
  const seen = new Map<number, string>();
  for (const name of names) {
    const match = fileNamePattern.exec(name);
    if (!match?.[1]) {
      throw new MigrationError(
        `migration file name "${name}" does not match NNNNNN_name.sql (lowercase letters, digits, underscores)`,
        { code: ErrorCodes.migrationFileName, file: name },
      );
    }
    const number = Number(match[1]);
    const previous = seen.get(number);
    if (previous) {
      throw new MigrationError(
        `migration files "${previous}" and "${name}" share number ${number}`,
        {
          code: ErrorCodes.migrationFileName,
          file: name,
        },
      );
    }
    seen.set(number, name);
    const bytes = await readFile(new URL(name, `file://${dir.endsWith("/") ? dir : `${dir}/`}`));
    files.push({
      name,
      number,
      sql: bytes.toString("utf8"),
      checksum: createHash("sha256").update(bytes).digest("hex"),
    });
  }
  return files;
}

/** 1-based line of a 1-based character position in `text`. */
export function lineOfPosition(text: string, position: number): number {
  let line = 1;
  for (let i = 0; i < Math.min(position - 1, text.length); i++) {
    if (text.charCodeAt(i) === 10) line++;
  }
  return line;
}
