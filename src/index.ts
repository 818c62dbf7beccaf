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
export {
  type Client,
  type ClientOptions,
  createClient,
  type StartRunOptions,
  type StartRunsOptions,
} from "./client/create-client.js";
export type { RunChange, RunChangeListener } from "./client/run-listener.js";
export type { WaitForRunOptions } from "./client/wait-for-run.js";
export { WaitTimeoutError } from "./client/wait-timeout-error.js";
export type { RunInfo, RunStatus, StepRunInfo, StepStatus } from "./db/get-run.js";
export { defineConfig, type RowflowConfig } from "./worker/config.js";
export { createWorker, type Worker } from "./worker/create-worker.js";
export { fatal, FatalError, OutcomeCodes, retryAfter, RetryAfterError } from "./worker/outcomes.js";
export { StepTimeoutError, WorkerShutdownError } from "./worker/step-errors.js";
export type { InputSchema, TaskDefinition, TaskHandler, TaskMap } from "./worker/task-registry.js";
export type { WorkerOptions, WorkflowSource } from "./worker/worker-options.js";
