/**
 * A worker's in-process series: step attempts by task and outcome (a counter
 * and a duration histogram), its handler slots, and the time of its claim
 * and gate calls as it sees them. Recorded in memory on the hot path (no
 * query; a Map lookup and two additions per attempt) and read on scrape.
 * docs/observability.md lists them.
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

import { attemptBuckets, callBuckets } from "./buckets.js";

/**
 * How an attempt ended, as this worker saw it: `succeeded` (complete_steps
 * took it), `retrying` / `failed` (fail_step queued the next attempt, or
 * failed the step), `refused` (the gate answered that the attempt was no
 * longer this worker's: cancelled, retried elsewhere, a lost lease; its
 * writes were rolled back), `unknown` (the outcome could not be recorded:
 * the connection was lost; the heartbeat or graphile settles it).
 */
export type AttemptOutcome = "succeeded" | "retrying" | "failed" | "refused" | "unknown";

/** The gate calls whose time is measured. */
export type GateCall = "begin" | "complete" | "fail";

/** What the slot gauges read at scrape time. */
export interface SlotReader {
  readonly size: number;
  readonly busy: number;
}

export class WorkerMetrics {
  readonly registry: Registry;
  readonly #attempts: Counter<"task" | "outcome">;
  readonly #durations: Histogram<"task" | "outcome">;
  readonly #claims: Histogram;
  readonly #gate: Histogram<"call">;
  /** Label children by task and outcome: prom-client hashes the labels on every call otherwise. */
  readonly #children = new Map<string, { inc(): void; observe(seconds: number): void }>();

  constructor(registry: Registry, slots: SlotReader) {
    this.registry = registry;
    const registers = [registry];
    this.#attempts = new Counter({
      name: "rowflow_step_attempts_total",
      help: "Step attempts this worker ran, by task and outcome (succeeded, retrying, failed, refused, unknown).",
      labelNames: ["task", "outcome"],
      registers,
    });
    this.#durations = new Histogram({
      name: "rowflow_step_attempt_duration_seconds",
      help: "Time of a step attempt in this worker, from its start to its recorded outcome, by task and outcome.",
      labelNames: ["task", "outcome"],
      buckets: [...attemptBuckets],
      registers,
    });
    new Gauge({
      name: "rowflow_handler_slots",
      help: "Handler slots of this worker (its concurrency).",
      registers,
      collect() {
        this.set(slots.size);
      },
    });
    new Gauge({
      name: "rowflow_handler_slots_busy",
      help: "Handler slots of this worker in use now.",
      registers,
      collect() {
        this.set(slots.busy);
      },
    });
    this.#claims = new Histogram({
      name: "rowflow_claim_duration_seconds",
      help: "Time of this worker's rowflow.claim_runs calls as it sees them (round trip included).",
      buckets: [...callBuckets],
      registers,
    });
    this.#gate = new Histogram({
      name: "rowflow_gate_duration_seconds",
      help: "Time of this worker's gate calls as it sees them (batching wait and round trip included), by call: begin (begin_steps), complete (complete_steps), fail (fail_step).",
      labelNames: ["call"],
      buckets: [...callBuckets],
      registers,
    });
  }

  /** One attempt ended with `outcome` after `seconds`. */
  attempt(task: string, outcome: AttemptOutcome, seconds: number): void {
    const key = `${outcome}\u0000${task}`;
    let child = this.#children.get(key);
    if (!child) {
      const counter = this.#attempts.labels(task, outcome);
      const histogram = this.#durations.labels(task, outcome);
      child = { inc: () => counter.inc(), observe: (s) => histogram.observe(s) };
      this.#children.set(key, child);
    }
    child.inc();
    child.observe(seconds);
  }

  /** A claim_runs call took `seconds`. */
  claim(seconds: number): void {
    this.#claims.observe(seconds);
  }

  /** A gate call took `seconds`. */
  gate(call: GateCall, seconds: number): void {
    this.#gate.observe({ call }, seconds);
  }
}
