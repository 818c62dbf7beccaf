/**
 * rowflow's error classes. Every error carries a stable `code`: SQL errors raised
 * by rowflow's functions keep their `RF…` SQLSTATE, errors raised in TypeScript
 * use the code listed here. Catch blocks call `coerceError(unknown)`.
 */

/** Base class of every error rowflow throws. */
export class RowflowError extends Error {
  /** Stable machine-readable code (`RF…` SQLSTATE or a TS-side code). */
  readonly code: string;

  constructor(message: string, options: { code: string; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
  }
}

/** The database could not be reached or the connection string is malformed. */
export class ConnectionError extends RowflowError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: "RF_CONNECTION", ...options });
  }
}

/** A migration file failed, or an applied file was changed afterwards. */
export class MigrationError extends RowflowError {
  /** The migration file concerned, e.g. `000002_engine.sql`. */
  readonly file: string;
  /** 1-based line in the file where the failing statement is, when known. */
  readonly line: number | undefined;

  constructor(
    message: string,
    options: { code: string; file: string; line?: number | undefined; cause?: unknown },
  ) {
    super(message, options);
    this.file = options.file;
    this.line = options.line;
  }
}

/** An error raised by one of rowflow's SQL functions (SQLSTATE class `RF`). */
export class RowflowSqlError extends RowflowError {
  /** The Postgres `DETAIL` field, if any. */
  readonly detail: string | undefined;

  constructor(message: string, options: { code: string; detail?: string; cause?: unknown }) {
    super(message, options);
    this.detail = options.detail;
  }
}

/** Codes of errors raised in TypeScript (SQL codes are documented in docs/spec.md). */
export const ErrorCodes = {
  connection: "RF_CONNECTION",
  migrationChecksum: "RF090",
  migrationFailed: "RF091",
  migrationFileName: "RF092",
  migrationOrder: "RF093",
  notMigrated: "RF094",
  definitionDiffers: "RF095",
  unexpected: "RF_UNEXPECTED",
  workerStopping: "RF_WORKER_STOPPING",
} as const;

interface PgErrorLike {
  code?: unknown;
  message?: unknown;
  detail?: unknown;
}

function isPgError(value: unknown): value is Error & PgErrorLike {
  return value instanceof Error && typeof (value as PgErrorLike).code === "string";
}

/**
 * Turns anything thrown into an `Error`. A Postgres error with an `RF…` SQLSTATE
 * becomes a `RowflowSqlError` with that code; other errors are returned as they are.
 */
export function coerceError(value: unknown): Error {
  if (value instanceof RowflowError) return value;
  if (isPgError(value) && typeof value.code === "string" && value.code.startsWith("RF")) {
    return new RowflowSqlError(value.message, {
      code: value.code,
      ...(typeof value.detail === "string" ? { detail: value.detail } : {}),
      cause: value,
    });
  }
  if (value instanceof Error) return value;
  return new RowflowError(typeof value === "string" ? value : JSON.stringify(value), {
    code: ErrorCodes.unexpected,
  });
}
