import { RowflowError } from "../errors.js";

/** `waitForRun` (or `waitForRuns`) gave up: the run (or some runs) had not ended when the timeout expired. */
export class WaitTimeoutError extends RowflowError {
  /** The run waited for ("" for `waitForRuns`). */
  readonly runId: string;
  /** Its status when the wait gave up (`waitForRuns`: "N active"). */
  readonly lastStatus: string | undefined;

  constructor(
    runId: string,
    timeoutMs: number,
    lastStatus: string | undefined,
    subject = `run ${runId}`,
  ) {
    super(`${subject} did not finish within ${timeoutMs} ms (status: ${lastStatus ?? "unknown"})`, {
      code: "RF_WAIT_TIMEOUT",
    });
    this.runId = runId;
    this.lastStatus = lastStatus;
  }
}
