// rowflow's public API. Explicit named exports only.
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
export { type ConnectionTarget, createPool, type PoolOptions } from "./db/connection.js";
export type { RunInfo, RunStatus, StepRunInfo, StepStatus } from "./db/get-run.js";
export { migrate, type MigrateOptions, type MigrateResult } from "./db/migrate.js";
export {
  type AnyDeps,
  type AnyInput,
  type AnyWorkflow,
  type AttachEvent,
  type AttachmentOptions,
  type BackoffOptions,
  defineTask,
  defineWorkflow,
  type HandlerContext,
  type InputSchema,
  type Interval,
  type Logger,
  parseSpec,
  type QueueOptions,
  type SpecErrorCode,
  SpecErrorCodes,
  type SpecIssue,
  specJsonSchema,
  SpecValidationError,
  type StepKind,
  type StepOptions,
  type StepSpec,
  type SyncedWorkflow,
  syncWorkflows,
  type TaskDefinition,
  type TaskHandler,
  type TaskOptions,
  validateSpec,
  type Workflow,
  type WorkflowInput,
  type WorkflowOptions,
  type WorkflowOutputs,
  type WorkflowSpec,
  type WorkflowStartInput,
} from "./definition/index.js";
export type { DemoTools, DevHooks } from "./dev/dev-hooks.js";
export {
  coerceError,
  ConnectionError,
  ErrorCodes,
  MigrationError,
  RowflowError,
  RowflowSqlError,
} from "./errors.js";
export { defineConfig, type RowflowConfig } from "./worker/config.js";
export { createWorker, type Worker } from "./worker/create-worker.js";
export { fatal, FatalError, OutcomeCodes, retryAfter, RetryAfterError } from "./worker/outcomes.js";
export { StepTimeoutError, WorkerShutdownError } from "./worker/step-errors.js";
export type { TaskMap } from "./worker/task-registry.js";
export type { WorkerOptions, WorkflowSource } from "./worker/worker-options.js";
