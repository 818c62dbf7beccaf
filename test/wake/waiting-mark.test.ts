import { afterEach, describe, expect, it, vi } from "vitest";

import type { Waiters } from "../../src/db/waiters/waiters.js";
import { WaitingMark } from "../../src/wake/waiting-mark.js";

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** A waiters table that records each call made to it. */
function recorder() {
  const calls: string[] = [];
  const db: Waiters = {
    mark: () => {
      calls.push("mark");
      return Promise.resolve();
    },
    unmark: () => {
      calls.push("unmark");
      return Promise.resolve();
    },
  };
  return { db, calls };
}

/** A mark of worker "w" on 'jobs:insert', with `unmarkDelayMs` when given. */
function newMark(db: Waiters, unmarkDelayMs?: number): WaitingMark {
  return new WaitingMark({
    waiters: db,
    id: "w",
    channel: "jobs:insert",
    ttlMs: 1000,
    logger: silent,
    ...(unmarkDelayMs === undefined ? {} : { unmarkDelayMs }),
  });
}

describe("WaitingMark", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("removes the row at once without unmarkDelayMs", async () => {
    const { db, calls } = recorder();
    const mark = newMark(db);
    await mark.set(true);
    await mark.set(false);
    expect(calls).toEqual(["mark", "unmark"]);
    expect(mark.marked).toBe(false);
  });

  it("with unmarkDelayMs, a busy spell shorter than the delay costs no write", async () => {
    vi.useFakeTimers();
    const { db, calls } = recorder();
    const mark = newMark(db, 100);
    await mark.set(true);
    for (let i = 0; i < 5; i++) {
      await mark.set(false);
      await vi.advanceTimersByTimeAsync(50);
      await mark.set(true);
    }
    expect(calls).toEqual(["mark"]);
    expect(mark.marked).toBe(true);

    // Busy for longer than the delay: the row goes.
    await mark.set(false);
    await vi.advanceTimersByTimeAsync(99);
    expect(calls).toEqual(["mark"]);
    await vi.advanceTimersByTimeAsync(1);
    await vi.waitFor(() => expect(calls).toEqual(["mark", "unmark"]));
    expect(mark.marked).toBe(false);

    // close() cancels a pending removal and removes the row itself.
    await mark.set(true);
    await mark.set(false);
    await mark.close();
    await vi.advanceTimersByTimeAsync(200);
    expect(calls).toEqual(["mark", "unmark", "mark", "unmark"]);
  });
});
