// The live feed: one `tailTransitions` (src/client/tail/: LISTEN on channel
// 'rowflow' for prompt hints, polling every second so nothing is missed)
// for the whole dashboard, started with the first subscriber, fanned out to
// every open event stream (GET /events, server-sent events).
import type { RunListener } from "../client/run-listener.js";
import { tailTransitions } from "../client/tail/tail-transitions.js";
import type { Transition } from "../client/tail/transition-cursor.js";
import type { Queryable } from "../db/queryable.js";

export type Subscriber = (t: Transition) => void;

export class LiveFeed {
  readonly #subscribers = new Set<Subscriber>();
  readonly #stop = new AbortController();
  #running: Promise<void> | undefined;

  constructor(
    private readonly db: Queryable,
    private readonly listener: RunListener,
    private readonly onError: (error: Error) => void,
  ) {}

  subscribe(fn: Subscriber): () => void {
    this.#subscribers.add(fn);
    this.#running ??= this.#run();
    return () => this.#subscribers.delete(fn);
  }

  async #run(): Promise<void> {
    try {
      await tailTransitions(
        { db: this.db, listener: this.listener },
        {
          interval: 1000,
          // The first subscriber's page was read just before: replay the last
          // seconds so a change between its read and this start is not lost.
          since: "5 seconds",
          signal: this.#stop.signal,
          onTransitions: (batch) => {
            for (const t of batch) for (const fn of this.#subscribers) fn(t);
          },
        },
      );
    } catch (error) {
      this.onError(error as Error);
    } finally {
      // A failed read ends this tail; the next subscriber starts another.
      this.#running = undefined;
    }
  }

  async close(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }
}
