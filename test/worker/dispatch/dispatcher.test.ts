import { describe, expect, it, vi } from "vitest";

import type { ClaimRunsResult } from "../../../src/db/gate/claim-runs.js";
import { Dispatcher } from "../../../src/worker/dispatch/dispatcher.js";
import { Leases } from "../../../src/worker/dispatch/leases.js";
import { SlotPool } from "../../../src/worker/dispatch/slots.js";

const silent = { debug() {}, info() {}, warn() {}, error() {} };

function dispatcher(slots: SlotPool, claim: (take: number) => Promise<ClaimRunsResult>) {
  return new Dispatcher({
    slots,
    leases: new Leases(0),
    begin: () => Promise.resolve([]),
    claim,
    start: () => {},
    pollInterval: 3_600_000, // never, within a test
    logger: silent,
  });
}

describe("Dispatcher", () => {
  it("a NOTIFY that finds every slot busy claims as soon as a slot frees up", async () => {
    const slots = new SlotPool(1);
    const claim = vi.fn((_take: number) => Promise.resolve({ runs: 0, taken: [] }));
    const d = dispatcher(slots, claim);
    d.start(); // looks once at start: finds nothing, so it is drained
    await vi.waitFor(() => expect(claim).toHaveBeenCalledTimes(1));
    await vi.waitFor(() => expect(d.drained).toBe(true));

    // A completion holds the only slot (for a dependent it may take) while a
    // start's NOTIFY arrives: nothing to claim with.
    const [held] = slots.tryAcquire(1);
    d.notify();
    expect(claim).toHaveBeenCalledTimes(1);
    // The completion gives the slot back: the hint is acted on now, not at
    // the next NOTIFY or poll.
    held!.release();
    await vi.waitFor(() => expect(claim).toHaveBeenCalledTimes(2));
    expect(claim).toHaveBeenLastCalledWith(1);

    // Drained and no new hint: a freed slot does not claim again.
    const [again] = slots.tryAcquire(1);
    again!.release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(claim).toHaveBeenCalledTimes(2);
    await d.stop();
  });
});
