// The CI-sized chaos scenarios (scripts/chaos/, docs/reliability.md): small
// sizes, a 1.5 s heartbeat timeout, and exact correctness assertions only —
// no timing is asserted.
import { expect } from "vitest";

import type { ChaosSettings } from "../../scripts/chaos/harness.js";
import { formatSummary, type Summary } from "../../scripts/chaos/summary.js";

export const ciSettings: ChaosSettings = {
  workers: 2,
  concurrency: 4,
  stepMs: 5,
  pollInterval: 200,
  heartbeatTimeout: 1_500,
  doneTimeoutMs: 60_000,
};

export const log = () => {};

/** CHAOS_TEST_LOG=1 prints each scenario's summary line (for looking, not asserted). */
export function show(summary: Summary): void {
  if (process.env.CHAOS_TEST_LOG) process.stderr.write(`${formatSummary(summary)}\n`);
}

/** Every run ended, each succeeded step's ledger row is there exactly once, nothing is left over. */
export function expectClean(
  summary: Summary,
  runs: { total: number; succeeded: number; failed?: number },
) {
  expect({
    problems: summary.problems,
    total: summary.runs.total,
    active: summary.runs.active,
    succeeded: summary.runs.succeeded,
    failed: summary.runs.failed,
    ledgerMissing: summary.ledgerMissing,
    ledgerDoubled: summary.ledgerDoubled,
    stuckSteps: summary.stuckSteps,
  }).toEqual({
    problems: [],
    total: runs.total,
    active: 0,
    succeeded: runs.succeeded,
    failed: runs.failed ?? 0,
    ledgerMissing: 0,
    ledgerDoubled: 0,
    stuckSteps: 0,
  });
}
