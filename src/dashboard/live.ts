// The live feed: one `tailTransitions` (src/client/tail/: LISTEN on channel
// 'rowflow' for prompt hints, polling every second so nothing is missed)
// for the whole dashboard, fanned out to every open event stream (GET
// /events, server-sent events). It runs only while a page listens: the
// engine NOTIFYs only while a view is marked waiting, and NOTIFYing commits
// serialise, so an idle dashboard removes its mark (RunListener, 2 s after).
import type { RunListener } from "../client/run-listener.js";
import { tailTransitions } from "../client/tail/tail-transitions.js";
import type { Transition } from "../client/tail/transition-cursor.js";
import type { Queryable } from "../db/queryable.js";

export type Subscriber = (t: Transition) => void;

export class LiveFeed {
  readonly #subscribers = new Set<Subscriber>();
  #stop: AbortController | undefined;
  #running: Promise<void> | undefined;

  constructor(
    private readonly db: Queryable,
    private readonly listener: RunListener,
    private readonly onError: (error: Error) => void,
  ) {}

  subscribe(fn: Subscriber): () => void {
    this.#subscribers.add(fn);
    if (this.#stop === undefined) {
      this.#stop = new AbortController();
      this.#running = this.#run(this.#stop.signal);
    }
    return () => {
      this.#subscribers.delete(fn);
      if (this.#subscribers.size === 0) {
        this.#stop?.abort();
        this.#stop = undefined;
      }
    };
  }

  async #run(signal: AbortSignal): Promise<void> {
    try {
      await tailTransitions(
        { db: this.db, listener: this.listener },
        {
          interval: 1000,
          // The first subscriber's page was read just before: replay the last
          // seconds so a change between its read and this start is not lost.
          since: "5 seconds",
          signal,
          onTransitions: (batch) => {
            for (const t of batch) for (const fn of this.#subscribers) fn(t);
          },
        },
      );
    } catch (error) {
      // A failed read ends this tail; the next subscriber starts another.
      this.onError(error as Error);
      if (!signal.aborted) this.#stop = undefined;
    }
  }

  async close(): Promise<void> {
    this.#stop?.abort();
    this.#stop = undefined;
    await this.#running;
  }
}
