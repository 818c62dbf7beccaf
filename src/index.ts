// rowflow's public API. Explicit named exports only.

// kysely's `sql` tag, from the kysely instance that types and runs `ctx.tx`:
// an app importing kysely itself may get another copy (a CommonJS app gets
// kysely's CJS build, whose classes' #private fields make its Transaction a
// different type from rowflow's).
export {
  type Client,
  type ClientOptions,
  createClient,
  type StartRunOptions,
  type StartRunsOptions,
} from "./client/create-client.js";
export type { RunChange, RunChangeListener } from "./client/run-listener.js";
export { setTraceContext, type TraceSettingTarget } from "./client/set-trace-context.js";
export type { WaitForRunOptions } from "./client/wait-for-run.js";
export type { WaitForRunsOptions } from "./client/wait-for-runs.js";
export { WaitTimeoutError } from "./client/wait-timeout-error.js";
export type { WaitsApi } from "./client/waits.js";
export { defineConfig, type RowflowConfig } from "./config/config.js";
export type { DemoTools, DevHooks } from "./config/dev-hooks.js";
export { type ConnectionTarget, createPool, type PoolOptions } from "./db/connection.js";
export { migrate, type MigrateOptions, type MigrateResult } from "./db/migrate.js";
export type { RunInfo, RunStatus, StepRunInfo, StepStatus } from "./db/runs/get-run.js";
export type {
  CancelRunsResult,
  ExplainedStep,
  PauseResult,
  RerunResult,
  RetentionSetting,
  RetryMode,
  RetryResult,
  RetryRunsResult,
  RunFilter,
  SkipResult,
} from "./db/runs/operate.js";
export type { RunCounts, RunCountsFilter } from "./db/runs/run-counts.js";
export type { RunSummary } from "./db/runs/runs-for.js";
export type { SignalResult } from "./db/waits/signals.js";
export type {
  CompleteTaskResult,
  HumanTask,
  TaskActor,
  TaskFilter,
  TaskStatus,
} from "./db/waits/tasks.js";
export {
  type AnyDeps,
  type AnyInput,
  type AnyWorkflow,
  type AttachEvent,
  type AttachmentOptions,
  type BackoffOptions,
  type CatchUp,
  type ChildOptions,
  type ChildValue,
  defineSchedule,
  defineTask,
  defineWorkflow,
  formErrors,
  formProblem,
  type HandlerContext,
  type HumanOptions,
  type InputSchema,
  type Interval,
  type Logger,
  type MapErrors,
  type MapOptions,
  type MapOutcome,
  type MapValue,
  MAX_MAP_ELEMENTS,
  type OnTimeout,
  parseSpec,
  type QueueOptions,
  type Schedule,
  ScheduleError,
  ScheduleErrorCodes,
  type ScheduleOptions,
  type SpecErrorCode,
  SpecErrorCodes,
  type SpecIssue,
  specJsonSchema,
  SpecValidationError,
  type StartAt,
  type StepKind,
  type StepOptions,
  type StepSpec,
  type SyncedWorkflow,
  syncWorkflows,
  type TaskDefinition,
  type TaskHandler,
  type TaskOptions,
  validateSpec,
  type WaitForOptions,
  type WaitOptions,
  type WaitValue,
  type Workflow,
  type WorkflowInput,
  type WorkflowOptions,
  type WorkflowOutputs,
  type WorkflowSpec,
  type WorkflowStartInput,
} from "./definition/index.js";
export {
  coerceError,
  ConnectionError,
  ErrorCodes,
  MigrationError,
  RowflowError,
  RowflowSqlError,
} from "./errors.js";
export type { TraceContext } from "./tracing/trace-context.js";
export type { AlertOptions } from "./worker/alerts/alert-options.js";
export {
  fatal,
  FatalError,
  OutcomeCodes,
  retryAfter,
  RetryAfterError,
} from "./worker/attempt/outcomes.js";
export { StepTimeoutError, WorkerShutdownError } from "./worker/attempt/step-errors.js";
export { createWorker, type Worker } from "./worker/create-worker.js";
export type { TaskMap } from "./worker/task-registry.js";
export type {
  WorkerMetricsOptions,
  WorkerOptions,
  WorkflowSource,
} from "./worker/worker-options.js";
export { sql } from "kysely";
