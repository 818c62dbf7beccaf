import { describe, expect, it } from "vitest";

import { leaseKey, Leases } from "../../../src/worker/dispatch/leases.js";

const step = (runId: string, name: string) => ({ runId, step: name, attempt: 1, priority: 0 });

describe("Leases", () => {
  it("keeps running and queued steps, queues reserved ones oldest first, and bounds the queue by its room", () => {
    const leases = new Leases(3);
    leases.run(leaseKey({ runId: "1", step: "a" }));
    leases.reserve([step("2", "b"), step("3", "c")]);
    expect(leases.queued).toBe(2);
    expect(leases.room).toBe(1);
    expect(leases.keys().sort()).toEqual(["1:a", "2:b", "3:c"]);
    expect(leases.take(1)).toEqual([step("2", "b")]);
    // Taken from the queue and not marked running: no longer kept.
    expect(leases.keys().sort()).toEqual(["1:a", "3:c"]);
    leases.putBack([step("2", "b")]);
    expect(leases.take(5)).toEqual([step("2", "b"), step("3", "c")]);
    leases.done("1:a");
    expect(leases.keys()).toEqual([]);
    leases.reserve([step("4", "d")]);
    leases.clearQueue();
    expect(leases.queued).toBe(0);
  });
});
