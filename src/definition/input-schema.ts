/** The zod schema a workflow or task declares for its input, and the types derived from it. */
import type { z } from "zod";

import type { AnyInput } from "./handler-context.js";

/** A zod schema for a run input; a run input is always a JSON object. */
export type InputSchema = z.ZodType<AnyInput, unknown>;

/** The input a handler sees: the schema's output, or any JSON object without a schema. */
export type InputOf<TSchema extends InputSchema | undefined> = TSchema extends InputSchema
  ? z.output<TSchema>
  : AnyInput;

/** The input a run is started with: the schema's input, or any JSON object without a schema. */
export type StartInputOf<TSchema extends InputSchema | undefined> = TSchema extends InputSchema
  ? z.input<TSchema>
  : AnyInput;
