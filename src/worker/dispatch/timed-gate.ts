/**
 * The worker's gate with the time of each claim, begin, complete and fail
 * call recorded as the worker sees it (batching wait and round trip
 * included) in its metrics (src/metrics/worker-metrics.ts). Without metrics
 * the gate is returned as it is: nothing is measured.
 */
import type { GateCall, WorkerMetrics } from "../../metrics/worker-metrics.js";
import type { BatchedGate } from "./batched-gate.js";

export function timedGate(gate: BatchedGate, metrics: WorkerMetrics | undefined): BatchedGate {
  if (!metrics) return gate;
  const timed =
    <A extends unknown[], R>(call: GateCall | "claim", fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const started = performance.now();
      try {
        return await fn(...args);
      } finally {
        const seconds = (performance.now() - started) / 1000;
        if (call === "claim") metrics.claim(seconds);
        else metrics.gate(call, seconds);
      }
    };
  return {
    ...gate,
    claimRuns: timed("claim", gate.claimRuns),
    beginSteps: timed("begin", gate.beginSteps),
    beginStep: timed("begin", gate.beginStep),
    completeStep: timed("complete", gate.completeStep),
    completeIn: timed("complete", gate.completeIn),
    failStep: timed("fail", gate.failStep),
  };
}
