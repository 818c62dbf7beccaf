import { RowflowError } from "../errors.js";

/** `waitForRun` gave up: the run had not ended when the timeout expired. */
export class WaitTimeoutError extends RowflowError {
  /** The run waited for. */
  readonly runId: string;
  /** Its status when the wait gave up. */
  readonly lastStatus: string | undefined;

  constructor(runId: string, timeoutMs: number, lastStatus: string | undefined) {
    super(
      `run ${runId} did not finish within ${timeoutMs} ms (status: ${lastStatus ?? "unknown"})`,
      {
        code: "RF_WAIT_TIMEOUT",
      },
    );
    this.runId = runId;
    this.lastStatus = lastStatus;
  }
}
