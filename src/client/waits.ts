/**
 * The client's calls for waiting steps (docs/spec.md, "Waits"): signals to
 * runs, and the human tasks people complete. Split from create-client.ts,
 * which spreads `waitsApi(…)` into the client.
 */
import type { Queryable } from "../db/queryable.js";
import { sendSignal, type SignalResult } from "../db/waits/signals.js";
import {
  claimTask,
  completeTask,
  type CompleteTaskResult,
  type HumanTask,
  listTasks,
  reassignTask,
  type TaskActor,
  type TaskFilter,
} from "../db/waits/tasks.js";

export interface WaitsApi {
  /**
   * Sends a named signal to a run (`rowflow.signal`): the step waiting for it
   * succeeds with `payload` as its output; sent earlier, it is kept until the
   * step waits. Never throws for the run's state: the answer says whether it
   * was delivered, kept, unexpected, or the run finished or is unknown.
   * Throws `RowflowSqlError` RF060 (name) / RF061 (payload size).
   */
  signal(runId: string, name: string, payload?: unknown): Promise<SignalResult>;
  /** Human tasks (`rowflow.tasks`); with `assignee`, one person's inbox (`rowflow.inbox`). */
  tasks(filter?: TaskFilter): Promise<HumanTask[]>;
  /**
   * Completes a task as `by` with `answer`, checked against its form: its step
   * succeeds with the answer. Throws `RowflowSqlError` RF063–RF066 (RF066: the
   * answer does not match the form, every problem in `detail`; the task stays open).
   */
  completeTask(
    taskId: string,
    options: TaskActor & { answer: unknown; override?: boolean | undefined },
  ): Promise<CompleteTaskResult>;
  /** Claims an open task for `by`: from then on only they complete it. */
  claimTask(taskId: string, actor: TaskActor): Promise<void>;
  /** Hands a task to another person or group (its assignee, or an operator). */
  reassignTask(
    taskId: string,
    to: string,
    actor: TaskActor & { reason?: string | undefined },
  ): Promise<void>;
}

export function waitsApi(db: Queryable, guard: <T>(fn: () => Promise<T>) => Promise<T>): WaitsApi {
  return {
    signal: (runId, name, payload) => guard(() => sendSignal(db, runId, name, payload)),
    tasks: (filter) => guard(() => listTasks(db, filter)),
    completeTask: (taskId, options) => guard(() => completeTask(db, taskId, options)),
    claimTask: (taskId, actor) => guard(() => claimTask(db, taskId, actor)),
    reassignTask: (taskId, to, actor) => guard(() => reassignTask(db, taskId, to, actor)),
  };
}
