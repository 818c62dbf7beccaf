// The definition layer's public API (re-exported by src/index.ts). Explicit named exports only.
export { type AttachEvent, type AttachmentOptions } from "./attachment.js";
export { type ChildOptions, type ChildValue } from "./child-options.js";
export { defineWorkflow } from "./define-workflow.js";
export { isSpecErrorCode, type SpecErrorCode, SpecErrorCodes } from "./error-codes.js";
export { FORM_KEYWORDS, formErrors, formProblem } from "./form-schema.js";
export {
  type AnyDeps,
  type AnyInput,
  type HandlerContext,
  type StepKind,
} from "./handler-context.js";
export { type InputOf, type InputSchema, type StartInputOf } from "./input-schema.js";
export {
  type Interval,
  INTERVAL_PATTERN,
  intervalToMs,
  type IntervalUnit,
  isInterval,
} from "./interval.js";
export { type Jsonify } from "./jsonify.js";
export { type Logger } from "./logger.js";
export {
  type ElementAt,
  type ElementInput,
  type MapErrors,
  type MapOptions,
  type MapOutcome,
  type MapValue,
} from "./map-options.js";
export { MAX_MAP_ELEMENTS } from "./map-step.js";
export {
  isName,
  isTaskName,
  NAME_PATTERN,
  QUEUE_NAME_PATTERN,
  TASK_NAME_PATTERN,
} from "./names.js";
export {
  type CatchUp,
  defineSchedule,
  type Schedule,
  ScheduleError,
  ScheduleErrorCodes,
  type ScheduleOptions,
} from "./schedule.js";
export { SpecValidationError } from "./spec-error.js";
export { type SpecIssue } from "./spec-issues.js";
export { renderSpecJsonSchema, specJsonSchema } from "./spec-json-schema.js";
export {
  backoffSchema,
  type BackoffSpec,
  MAX_STEPS,
  queueSchema,
  type QueueSpec,
  type StepSpec,
  stepSpecSchema,
  type WorkflowSpec,
  workflowSpecSchema,
} from "./spec-schema.js";
export { type BackoffOptions, type QueueOptions, type StepOptions } from "./step-options.js";
export {
  DEFINE_WORKFLOW_SQL,
  type SqlQueryable,
  type SyncableWorkflow,
  type SyncedWorkflow,
  syncWorkflows,
} from "./sync.js";
export { defineTask, type TaskDefinition, type TaskHandler, type TaskOptions } from "./task.js";
export {
  parseSpec,
  validateSpec,
  type ValidateSpecOptions,
  type ValidateSpecResult,
} from "./validate-spec.js";
export {
  type HumanOptions,
  type OnTimeout,
  type StartAt,
  type WaitForOptions,
  type WaitOptions,
  type WaitValue,
} from "./wait-options.js";
export { SIGNAL_NAME_PATTERN } from "./wait-schema.js";
export {
  type AnyWorkflow,
  type DepsOf,
  type StepHandler,
  type StepValue,
  type Workflow,
  type WorkflowInput,
  type WorkflowOptions,
  type WorkflowOutputs,
  type WorkflowStartInput,
} from "./workflow-types.js";
