/**
 * Which ticks of a schedule are due now (pure: the clock is an argument).
 * A tick is due when it is after the schedule's last fired tick (or its
 * creation, before the first) and not after `now`. Of those, `catchUp`
 * keeps: `none` the most recent one if it passed less than `windowMs` ago
 * (an on-time tick, seen by the next heartbeat; older ones were missed and
 * are skipped), `latest` the most recent one however old, `all` every one,
 * oldest first, at most `maxTicks` per call (the next heartbeat goes on
 * from the last one fired, so a long outage catches up over several beats).
 */
import type { Cron } from "croner";

import { type CatchUp, parseCron } from "../../definition/schedule.js";

/** Ticks `all` fires per schedule and heartbeat. */
export const MAX_CATCH_UP_TICKS = 100;

export interface DueTicksArgs {
  cron: Cron;
  catchUp: CatchUp;
  /** The latest tick fired; null before the first. */
  lastTick: Date | null;
  /** The schedule's creation: ticks are counted from here until one fired. */
  createdAt: Date;
  now: Date;
  /** How late a tick may be seen and still run under `none`, in ms. */
  windowMs: number;
  /** Bound of `all`. (Default: MAX_CATCH_UP_TICKS) */
  maxTicks?: number;
}

/** The ticks to fire, oldest first. */
export function dueTicks(args: DueTicksArgs): Date[] {
  const after = args.lastTick ?? args.createdAt;
  if (args.catchUp === "all") {
    const max = args.maxTicks ?? MAX_CATCH_UP_TICKS;
    return args.cron.nextRuns(max, after).filter((tick) => tick.getTime() <= args.now.getTime());
  }
  // previousRuns answers ticks strictly before its reference: 1 ms past now includes now.
  const [latest] = args.cron.previousRuns(1, new Date(args.now.getTime() + 1));
  if (!latest || latest.getTime() <= after.getTime()) return [];
  if (args.catchUp === "none" && args.now.getTime() - latest.getTime() > args.windowMs) return [];
  return [latest];
}

/** The next tick after `now`, or null when the expression has none. */
export function nextTick(cron: Cron, now: Date): Date | null {
  return cron.nextRun(now);
}

/**
 * A stored schedule's next tick after `now` (what `rowflow schedules` shows):
 * null when its expression has none; the parse error's message when croner
 * rejects a schedule defined from SQL (which checks only the shape).
 */
export function nextTickOf(
  schedule: { name: string; cron: string; timezone: string },
  now: Date,
): { next: Date | null; error?: string } {
  try {
    return { next: nextTick(parseCron(schedule.cron, schedule.timezone, schedule.name), now) };
  } catch (error) {
    return { next: null, error: (error as Error).message };
  }
}
