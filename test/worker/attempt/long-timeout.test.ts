import { afterEach, describe, expect, it, vi } from "vitest";

import { setLongTimeout } from "../../../src/worker/attempt/long-timeout.js";

const day = 24 * 60 * 60 * 1000;

describe("setLongTimeout", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("waits out a delay beyond setTimeout's 2^31 ms (24.8 days) instead of firing at once", async () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    setLongTimeout(fired, 30 * day);
    await vi.advanceTimersByTimeAsync(1);
    expect(fired).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(30 * day - 2);
    expect(fired).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(fired).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(60 * day);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it("fires a short delay once, and not at all once cancelled", async () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    const cancelled = vi.fn();
    setLongTimeout(fired, 50);
    const cancel = setLongTimeout(cancelled, 30 * day);
    await vi.advanceTimersByTimeAsync(25 * day);
    cancel();
    await vi.advanceTimersByTimeAsync(10 * day);
    expect(fired).toHaveBeenCalledTimes(1);
    expect(cancelled).not.toHaveBeenCalled();
  });
});
