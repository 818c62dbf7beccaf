/**
 * A cursor over rowflow.run_timeline that hands out every transition once,
 * as transactions commit them: what `rowflow tail` prints and what a live
 * view (the dashboard) can follow. Each `read()` answers the transitions
 * committed since the previous one.
 *
 * Why a plain "time > last seen" cursor is not enough: a transition's time
 * is the statement time of the transaction that wrote it
 * (statement_timestamp(), or an injected `now`), not its commit time. A
 * transaction that wrote at 12:00:00.100 and commits at 12:00:02 becomes
 * visible after transitions of 12:00:01 were read; a cursor at 12:00:01
 * would never see it. And most timeline rows have no id (they are implied by
 * the rows' timestamps: sql/schema/25_views/run_timeline.sql), so there is
 * no sequence to follow either.
 *
 * The rule. The cursor keeps a lower edge L and re-reads every transition
 * at L or later on each read; `seen` holds the keys of those printed at L or
 * later, so a re-read prints nothing twice:
 *
 *   - Key: a stored event's id (`e<id>`); an implied transition's
 *     (run, step, type, attempt, time to the microsecond). Those five do not
 *     change while the transition stays in the view: a failed attempt's
 *     step_started moves from the step row (started_at) to its
 *     step_retrying / step_failed event (data.startedAt, the same instant),
 *     with the same key. A transition that is truly new (a retried run's
 *     attempt 1 queued again) has a new time, hence a new key.
 *   - Before each read, a mark: the server's time T and the virtual
 *     transaction ids of every transaction in progress, V (pg_locks: every
 *     transaction holds the lock of its own virtual id for its whole life,
 *     with or without a transaction id). A transaction absent from V that
 *     commits after the read's snapshot began after the mark, so each of its
 *     statement times is T or later (less a few microseconds between a
 *     statement's timestamp and its transaction's start: `marginUs`). So
 *     after that read, a transition earlier than T - margin that the read
 *     did not see can only come from a transaction in V.
 *   - A mark is settled once none of its transactions is still in progress
 *     (none of its V in a later mark's V): then every transition earlier
 *     than its T - margin was visible to the read after that later mark.
 *     After each read, L moves up to the T - margin of the newest settled
 *     mark (a read's own mark is settled at once when nothing else was in
 *     progress), never down; keys below L leave `seen`. The read itself
 *     uses the L from before its mark was taken into account.
 *   - Bound: L never stays more than `maxLagMs` behind the server's time (a
 *     session idle in transaction for an hour, in any database of the
 *     server, would otherwise make every read re-read that hour). A
 *     transaction that commits a transition more than `maxLagMs` after that
 *     transition's time is missed; rowflow's own writers commit within a
 *     statement of it (a handler's completion is its transaction's last
 *     statement), an operator's `begin; select rowflow.retry_run(…)` left
 *     open in psql may not. A test's injected `now` in the past is the same.
 *
 * Order: each read answers its new transitions in the timeline's order (time,
 * kind of event, step). A run's transitions come in their causal order: a
 * transition that follows another was written by a transaction that saw the
 * other committed. Between runs, a late commit comes after what was read
 * before it, even when its time is earlier.
 */
import type { Queryable } from "../../db/queryable.js";
import {
  readTransitions,
  readVisibilityMark,
  serverTimeUs,
  type TransitionFilter,
  type TransitionRow,
  type VisibilityMark,
} from "../../db/runs/transitions.js";
import { transitionDetail } from "./transition-detail.js";

/** One transition of a run, as `rowflow tail --json` prints it. */
export interface Transition {
  /** When it happened (the writing statement's time): ISO 8601, UTC, microseconds. */
  at: string;
  runId: string;
  workflow: string;
  /** Null for the run's own transitions (run_started, run_failed, …). */
  step: string | null;
  /** rowflow.run_timeline's type: step_queued, step_started, step_succeeded, step_retrying, run_failed, … */
  type: string;
  attempt: number | null;
  /** A short text: the error's message, a cancel's reason, a skip's condition; null when there is none. */
  detail: string | null;
  /** rowflow.events.id of a stored event; null when the rows' timestamps imply it. */
  eventId: string | null;
  /** The stored event's data, or null. */
  data: unknown;
}

export interface TransitionCursorOptions extends TransitionFilter {
  /** Start this far back (a Postgres interval, '10 minutes'). (Default: now, only new transitions) */
  since?: string | null;
  /** How far behind the server's time the overlap may grow, in ms. (Default: 300000) */
  maxLagMs?: number;
}

/** Between a statement's timestamp and its transaction's start; generous (it is microseconds). */
const marginUs = 1_000_000n;

export class TransitionCursor {
  readonly #db: Queryable;
  readonly #filter: TransitionFilter;
  readonly #maxLagUs: bigint;
  #lowerUs: bigint;
  readonly #seen = new Map<string, bigint>();
  #marks: VisibilityMark[] = [];

  private constructor(db: Queryable, options: TransitionCursorOptions, lowerUs: bigint) {
    this.#db = db;
    this.#filter = { workflow: options.workflow ?? null, runId: options.runId ?? null };
    this.#maxLagUs = BigInt(options.maxLagMs ?? 300_000) * 1000n;
    this.#lowerUs = lowerUs;
  }

  /** A cursor from now (or `since` ago) by the server's clock. */
  static async open(
    db: Queryable,
    options: TransitionCursorOptions = {},
  ): Promise<TransitionCursor> {
    return new TransitionCursor(db, options, await serverTimeUs(db, options.since ?? null));
  }

  /** The transitions committed since the previous read (the first: since the start), each once. */
  async read(): Promise<Transition[]> {
    const mark = await readVisibilityMark(this.#db);
    const rows = await readTransitions(this.#db, {
      ...this.#filter,
      from: isoFromUs(this.#lowerUs),
    });
    const fresh: Transition[] = [];
    for (const row of rows) {
      const key = keyOf(row);
      if (this.#seen.has(key)) continue;
      this.#seen.set(key, BigInt(row.at_us));
      fresh.push(toTransition(row));
    }
    this.#advance(mark);
    return fresh;
  }

  /** What the cursor holds (for tests and diagnostics). */
  get state(): { lowerUs: bigint; seen: number; openMarks: number } {
    return { lowerUs: this.#lowerUs, seen: this.#seen.size, openMarks: this.#marks.length };
  }

  #advance(mark: VisibilityMark): void {
    this.#marks.push(mark);
    const running = new Set(mark.inProgress);
    let lower = this.#lowerUs;
    for (let i = this.#marks.length - 1; i >= 0; i -= 1) {
      const earlier = this.#marks[i]!;
      if (earlier.inProgress.some((id) => running.has(id))) continue;
      lower = max(lower, earlier.nowUs - marginUs);
      break;
    }
    lower = max(lower, mark.nowUs - this.#maxLagUs);
    // A mark whose time is at or below L can move L no further.
    this.#marks = this.#marks.filter((m) => m.nowUs - marginUs > lower);
    for (const [key, at] of this.#seen) if (at < lower) this.#seen.delete(key);
    this.#lowerUs = lower;
  }
}

function keyOf(row: TransitionRow): string {
  if (row.event_id !== null) return `e${row.event_id}`;
  return JSON.stringify([row.run_id, row.step, row.type, row.attempt, row.at_us]);
}

function toTransition(row: TransitionRow): Transition {
  return {
    at: row.at,
    runId: row.run_id,
    workflow: row.workflow,
    step: row.step,
    type: row.type,
    attempt: row.attempt,
    detail: transitionDetail(row.type, row.data),
    eventId: row.event_id,
    data: row.data ?? null,
  };
}

const max = (a: bigint, b: bigint) => (a > b ? a : b);

/** Microseconds since the epoch as an exact ISO 8601 timestamp (Date has milliseconds only). */
export function isoFromUs(us: bigint): string {
  const ms = us / 1000n - (us % 1000n < 0n ? 1n : 0n);
  const micros = (((us % 1_000_000n) + 1_000_000n) % 1_000_000n).toString().padStart(6, "0");
  return new Date(Number(ms)).toISOString().replace(/\.\d{3}Z$/, `.${micros}Z`);
}
