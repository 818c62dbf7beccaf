import { describe, expect, it } from "vitest";

import { SlotPool } from "../../../src/worker/dispatch/slots.js";

describe("SlotPool", () => {
  it("hands out at most `size` slots, first come first served, and passes a released slot to the oldest waiter", async () => {
    const pool = new SlotPool(2);
    const a = await pool.acquire();
    const b = await pool.acquire();
    expect(pool.busy).toBe(2);
    const order: string[] = [];
    const c = pool.acquire().then((slot) => (order.push("c"), slot));
    const d = pool.acquire().then((slot) => (order.push("d"), slot));
    expect(pool.waiting).toBe(2);
    expect(pool.idle).toBe(0);
    a.release();
    const slotC = await c;
    expect(order).toEqual(["c"]);
    b.release();
    await d;
    expect(order).toEqual(["c", "d"]);
    expect(pool.busy).toBe(2);
    slotC.release();
    slotC.release(); // idempotent: a second release frees nothing more
    expect(pool.busy).toBe(1);
  });

  it("tryAcquire takes only idle slots, none while a loop waits", async () => {
    const pool = new SlotPool(3);
    const first = pool.tryAcquire(2);
    expect(first).toHaveLength(2);
    expect(pool.tryAcquire(5)).toHaveLength(1);
    expect(pool.tryAcquire(1)).toHaveLength(0);
    const waiter = pool.acquire();
    first[0]!.release(); // goes to the waiter, not to the pool
    expect(pool.idle).toBe(0);
    expect(pool.tryAcquire(1)).toHaveLength(0);
    (await waiter).release();
    expect(pool.idle).toBe(1);
  });

  it("tells idle listeners when a released slot stays idle", async () => {
    const pool = new SlotPool(1);
    let idle = 0;
    const off = pool.onIdle(() => idle++);
    const slot = await pool.acquire();
    const waiter = pool.acquire();
    slot.release(); // to the waiter: not idle
    expect(idle).toBe(0);
    (await waiter).release();
    expect(idle).toBe(1);
    off();
    (await pool.acquire()).release();
    expect(idle).toBe(1);
  });

  it("rejects waiting and later acquires once closed, and a waiter whose signal aborts", async () => {
    const pool = new SlotPool(1);
    const held = await pool.acquire();
    const controller = new AbortController();
    const aborted = pool.acquire(controller.signal);
    const closed = pool.acquire();
    controller.abort(new Error("job aborted"));
    await expect(aborted).rejects.toThrow("job aborted");
    expect(pool.waiting).toBe(1);
    pool.close();
    await expect(closed).rejects.toMatchObject({ code: "RF_WORKER_STOPPING" });
    await expect(pool.acquire()).rejects.toMatchObject({ code: "RF_WORKER_STOPPING" });
    held.release(); // held slots stay valid
    expect(pool.busy).toBe(0);
  });
});
