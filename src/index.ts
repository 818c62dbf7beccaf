// rowflow's public API. Explicit named exports only.
export { type ConnectionTarget, createPool, type PoolOptions } from "./db/connection.js";
export { migrate, type MigrateOptions, type MigrateResult } from "./db/migrate.js";
export {
  coerceError,
  ConnectionError,
  ErrorCodes,
  MigrationError,
  RowflowError,
  RowflowSqlError,
} from "./errors.js";
