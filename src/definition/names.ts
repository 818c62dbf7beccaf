/**
 * Name rules shared with the SQL engine (docs/spec.md, Names).
 * Names are validated, never quoted into SQL, so the patterns are deliberately narrow.
 */

/** Workflow and step names: a lowercase letter, then up to 62 of `a-z 0-9 _ -` (63 max, like a Postgres identifier). */
export const NAME_PATTERN = /^[a-z][a-z0-9_-]{0,62}$/;

/** Task names: a letter, then up to 127 of `A-Z a-z 0-9 _ . : -`. */
export const TASK_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_.:-]{0,127}$/;

/** Returns whether `value` is a valid workflow or step name. */
export function isName(value: string): boolean {
  return NAME_PATTERN.test(value);
}

/** Returns whether `value` is a valid task name. */
export function isTaskName(value: string): boolean {
  return TASK_NAME_PATTERN.test(value);
}

/** The rule in words, for error messages. */
export const NAME_RULE =
  'use 1-63 characters: a lowercase letter first, then lowercase letters, digits, "_" or "-"';

/** The rule in words, for error messages. */
export const TASK_NAME_RULE =
  'use 1-128 characters: a letter first, then letters, digits, "_", ".", ":" or "-"';

/** Queue names (SQL: `c_queue_re`): 1-63 of `A-Z a-z 0-9 _ . -`. */
export const QUEUE_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,63}$/;

/** The rule in words, for error messages. */
export const QUEUE_NAME_RULE = 'use 1-63 characters: letters, digits, "_", "." or "-"';
