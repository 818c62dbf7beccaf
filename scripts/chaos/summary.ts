// A scenario's result and its one summary line:
// kill: ok · runs 10000 total / 10000 succeeded / 0 failed · ledger 0 missing / 0 doubled ·
//   external duplicates 31 · 30 faults · last fault → done 31.2 s · worker self-exits 0 ·
//   stuck steps 0 · lost attempts 52 · runs/s before 140 / during 120 / after 35 · 95 s
import type { RunCounts } from "../../src/db/runs/run-counts.js";

export interface Summary {
  scenario: string;
  /** What broke a correctness rule (empty: ok). */
  problems: string[];
  /** Facts worth knowing that are not failures (a skip, how faults were made). */
  notes: string[];
  runs: RunCounts;
  ledgerMissing: number;
  ledgerDoubled: number;
  /** External effects (outside ctx.tx) repeated for the same idempotency key: at-least-once. */
  externalDuplicates: number;
  faults: number;
  /** From the last fault until no run was active; undefined without faults or when never done. */
  recoverySeconds: number | undefined;
  selfExits: number;
  stuckSteps: number;
  /** Attempts recorded as worker_lost (each used up one of its step's attempts). */
  lostAttempts: number;
  /** Runs finished per second before the first fault, between the first and last, after the last. */
  throughput: { before: number | undefined; during: number | undefined; after: number | undefined };
  seconds: number;
  skipped?: string;
}

/** Finished runs per second in each phase, from the run-count samples. */
export function phaseRates(
  samples: ReadonlyArray<{ t: number; counts: RunCounts }>,
  at: { start: number; firstFault: number | undefined; lastFault: number | undefined; end: number },
): Summary["throughput"] {
  const finishedAt = (t: number) => {
    let last = 0;
    for (const s of samples) {
      if (s.t > t) break;
      last = s.counts.total - s.counts.active;
    }
    return last;
  };
  const rate = (from: number, to: number) =>
    to - from < 500 ? undefined : ((finishedAt(to) - finishedAt(from)) * 1000) / (to - from);
  if (at.firstFault === undefined || at.lastFault === undefined)
    return { before: rate(at.start, at.end), during: undefined, after: undefined };
  return {
    before: rate(at.start, at.firstFault),
    during: rate(at.firstFault, at.lastFault),
    after: rate(at.lastFault, at.end),
  };
}

const n = (value: number | undefined, digits = 0) =>
  value === undefined ? "-" : value.toFixed(digits);

export function formatSummary(s: Summary): string {
  if (s.skipped) return `${s.scenario}: skipped · ${s.skipped}`;
  const t = s.throughput;
  const parts = [
    `${s.scenario}: ${s.problems.length === 0 ? "ok" : "FAILED"}`,
    `runs ${s.runs.total} total / ${s.runs.succeeded} succeeded / ${s.runs.failed} failed`,
    `ledger ${s.ledgerMissing} missing / ${s.ledgerDoubled} doubled`,
    `external duplicates ${s.externalDuplicates}`,
    `${s.faults} faults`,
    `last fault → done ${s.recoverySeconds === undefined ? "-" : `${n(s.recoverySeconds, 1)} s`}`,
    `worker self-exits ${s.selfExits}`,
    `stuck steps ${s.stuckSteps}`,
    `lost attempts ${s.lostAttempts}`,
    `runs/s before ${n(t.before)} / during ${n(t.during)} / after ${n(t.after)}`,
    `${n(s.seconds)} s`,
  ];
  const tail = [...s.problems.map((p) => `PROBLEM: ${p}`), ...s.notes];
  return parts.join(" · ") + (tail.length > 0 ? `\n  ${tail.join("\n  ")}` : "");
}
