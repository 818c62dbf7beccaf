/** Histogram buckets, in seconds. */

/** A step attempt: from 5 ms handlers to five-minute ones. */
export const attemptBuckets = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
] as const;

/** A gate or claim call as the worker sees it (round trip, batching wait, the function's work). */
export const callBuckets = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
] as const;
