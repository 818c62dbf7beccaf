/**
 * A registry of the long-lived resources rowflow opens (pools, workers,
 * listeners). Each registers itself when created and unregisters on `close()`.
 * The test suite's `afterEach` guard reads it to fail a test that leaves one
 * open (graphile-worker keeps a similar `_allWorkerPools` list).
 */

export interface OpenHandle {
  readonly kind: "pool" | "worker" | "listener" | "client" | "server";
  readonly description: string;
  close(): Promise<void>;
}

const handles = new Set<OpenHandle>();

/** Records an open resource; returns a function that removes it again. */
export function registerHandle(handle: OpenHandle): () => void {
  handles.add(handle);
  return () => {
    handles.delete(handle);
  };
}

/** The resources opened and not yet closed, oldest first. */
export function openHandles(): readonly OpenHandle[] {
  return [...handles];
}
