import { afterEach } from "vitest";

import { openHandles } from "../../src/internal/open-handles.js";

/**
 * Setup file: fails a test that leaves a pool, worker, listener, client or
 * server open. The leaked handles are closed so the next test starts clean.
 */
afterEach(async () => {
  const leaked = openHandles();
  if (leaked.length === 0) return;
  await Promise.allSettled(leaked.map((handle) => handle.close()));
  throw new Error(
    `test left ${leaked.length} resource(s) open: ${leaked.map((h) => `${h.kind} ${h.description}`).join(", ")}`,
  );
});
