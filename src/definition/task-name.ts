/** Throws the RF004 spec error for an invalid task name given to the DSL. */
import { describeValue } from "./describe-value.js";
import { SpecErrorCodes } from "./error-codes.js";
import { isTaskName, TASK_NAME_RULE } from "./names.js";
import { SpecValidationError } from "./spec-error.js";
import { formatPath } from "./spec-issues.js";

/** Throws a `SpecValidationError` (RF004) unless `name` is a valid task name. */
export function assertTaskName(
  name: unknown,
  path: readonly (string | number)[],
): asserts name is string {
  if (typeof name === "string" && isTaskName(name)) return;
  throw new SpecValidationError([
    {
      code: SpecErrorCodes.invalidName,
      path,
      message: `${path.length === 0 ? "task" : formatPath(path)}: invalid task name ${describeValue(name)}: ${TASK_NAME_RULE}`,
    },
  ]);
}
