/**
 * Orders spec issues the way `rowflow.define_workflow` checks a spec, so that the
 * first issue (the code of a `SpecValidationError`) is the one SQL raises for the
 * same spec. SQL stops at its first error; zod collects them all.
 *
 * SQL order: the name argument, the spec's type, unknown top-level keys,
 * spec.name, description, onFailure, steps (type, empty, too many); then each
 * step in turn (type, name, unknown keys, duplicate name, task or its wait
 * (wait, human), compensate, dependsOn, attempts, priority, backoff, timeout,
 * delay, if, startAt, queue); then
 * unknown dependencies; then cycles.
 */
import { SpecErrorCodes } from "./error-codes.js";
import type { SpecIssue } from "./spec-issues.js";

const TOP_LEVEL: Readonly<Record<string, number>> = {
  name: 3,
  description: 4,
  onFailure: 5,
  steps: 6,
};
const STEP_FIELDS: Readonly<Record<string, number>> = {
  name: 1,
  task: 4,
  wait: 4,
  human: 4,
  waitFor: 4,
  compensate: 5,
  dependsOn: 6,
  attempts: 7,
  priority: 8,
  backoff: 9,
  timeout: 10,
  delay: 11,
  if: 12,
  startAt: 12.5,
  queue: 13,
};
const BACKOFF_FIELDS: Readonly<Record<string, number>> = { type: 2, base: 3, max: 4, jitter: 6 };

/** Returns `issues` sorted in SQL's checking order (stable for ties). */
export function sortIssuesLikeSql(issues: readonly SpecIssue[]): SpecIssue[] {
  return issues
    .map((issue) => ({ issue, key: orderKey(issue) }))
    .sort((a, b) => compareKeys(a.key, b.key))
    .map(({ issue }) => issue);
}

function compareKeys(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const diff = (a[i] ?? -1) - (b[i] ?? -1);
    if (diff !== 0) return diff;
  }
  return 0;
}

function orderKey({ code, path }: SpecIssue): number[] {
  if (code === SpecErrorCodes.unknownDependency) return [8, num(path[1]), num(path[3])];
  if (code === SpecErrorCodes.cycle) return [9];
  const [top, index, field, sub] = path;
  if (top === undefined) {
    if (code === SpecErrorCodes.invalidName) return [0]; // the name argument
    return [code === SpecErrorCodes.unknownOption ? 2 : 1];
  }
  if (top !== "steps" || typeof index !== "number") return [TOP_LEVEL[String(top)] ?? 6];
  if (field === undefined) return [7, index, code === SpecErrorCodes.unknownOption ? 2 : 0];
  const rank = STEP_FIELDS[String(field)] ?? 14;
  if (field === "name" && code === SpecErrorCodes.duplicateStep) return [7, index, 3];
  if (field === "dependsOn") return [7, index, rank, num(sub)];
  if (field === "backoff") return [7, index, rank, backoffRank(code, sub)];
  if (field === "queue") return [7, index, rank, queueRank(code, sub)];
  return [7, index, rank];
}

function backoffRank(code: string, sub: string | number | undefined): number {
  if (sub === undefined) {
    if (code === SpecErrorCodes.unknownOption) return 1;
    return code === SpecErrorCodes.invalidInterval ? 5 : 0; // 5: max below base
  }
  return BACKOFF_FIELDS[String(sub)] ?? 7;
}

function queueRank(code: string, sub: string | number | undefined): number {
  if (code === SpecErrorCodes.invalidName) return 4; // SQL checks the name pattern last
  if (sub === undefined) return code === SpecErrorCodes.unknownOption ? 1 : 0;
  return sub === "name" ? 2 : 3;
}

function num(segment: string | number | undefined): number {
  return typeof segment === "number" ? segment : -1;
}
