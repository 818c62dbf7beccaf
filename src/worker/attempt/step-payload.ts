import type { Logger } from "../../definition/logger.js";

/** The payload of a `rowflow:step` job: `{"run": <id>, "step": "<name>", "attempt": <n>}` (docs/sql-api.md, Jobs). */
export interface StepPayload {
  /** Run id as a decimal string (bigint). */
  run: string;
  step: string;
  attempt: number;
}

/** Graphile-worker task identifier of rowflow's step jobs. */
export const stepTaskIdentifier = "rowflow:step";

/**
 * Graphile-worker task identifier of the jobs that arm a waiting step (a
 * signal, a human task, a startAt): same payload, body rowflow.arm_step.
 */
export const waitTaskIdentifier = "rowflow:wait";

/**
 * Graphile-worker task identifier of the jobs that settle a child step once
 * its child run ended (queued by the trigger rowflow_child_ended): same
 * payload, body rowflow.settle_child.
 */
export const childTaskIdentifier = "rowflow:child";

/** Validates a job payload; undefined when it is not a step payload. */
export function parseStepPayload(value: unknown): StepPayload | undefined {
  if (!value || typeof value !== "object") return undefined;
  const { run, step, attempt } = value as Record<string, unknown>;
  const runId =
    typeof run === "number" && Number.isSafeInteger(run) && run > 0
      ? String(run)
      : typeof run === "string" && /^[1-9]\d{0,18}$/.test(run)
        ? run
        : undefined;
  if (!runId || typeof step !== "string" || step.length === 0) return undefined;
  if (typeof attempt !== "number" || !Number.isInteger(attempt) || attempt < 1) return undefined;
  return { run: runId, step, attempt };
}

/**
 * The payload of a job graphile delivered to one of rowflow's tasks, or
 * undefined after logging a malformed one (the job then completes: nothing
 * to record it on, and 25 graphile retries would not help).
 */
export function jobPayload(
  logger: Logger,
  task: string,
  rawPayload: unknown,
  jobId: string,
): StepPayload | undefined {
  const payload = parseStepPayload(rawPayload);
  if (!payload)
    logger.error(`${task} job with a malformed payload; dropped`, { payload: rawPayload, jobId });
  return payload;
}
