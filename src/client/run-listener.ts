/**
 * One LISTEN connection per client on channel `rowflow` (pg-listen, which
 * reconnects by itself). Notifications are hints (DESIGN.md invariant 5):
 * `{"run": id}` for one run, or a batch summary without a run id, which
 * wakes every waiter. Connected lazily, on the first wait or subscription.
 */
import pgListen, { type Subscriber } from "pg-listen";

// pg-listen is CommonJS with `exports.default`: under Node's ESM interop the
// default import is the exports object.
const createSubscriber = pgListen.default;

import type { Logger } from "../definition/logger.js";

/** What a notification says: a run changed (`runId`), or some runs did (batch summary, no id). */
export interface RunChange {
  /** The run that changed; undefined for a batch hint (e.g. many runs started at once). */
  runId: string | undefined;
  /** The raw notification payload. */
  payload: unknown;
}

export type RunChangeListener = (change: RunChange) => void;

export class RunListener {
  readonly #connectionString: string;
  readonly #logger: Logger;
  readonly #listeners = new Set<RunChangeListener>();
  #subscriber: Subscriber | undefined;
  #connecting: Promise<void> | undefined;
  #closed = false;

  constructor(connectionString: string, logger: Logger) {
    this.#connectionString = connectionString;
    this.#logger = logger;
  }

  /** Adds a listener and makes sure the LISTEN connection is up; returns the remover. */
  async add(listener: RunChangeListener): Promise<() => void> {
    this.#listeners.add(listener);
    try {
      await this.#connect();
    } catch (error) {
      // Polling still works without notifications; say so once per failure.
      this.#logger.warn(`LISTEN rowflow failed, relying on polling: ${(error as Error).message}`);
      this.#connecting = undefined;
    }
    return () => {
      this.#listeners.delete(listener);
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    await this.#connecting?.catch(() => {});
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    await subscriber?.close().catch(() => {});
  }

  #connect(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("client is closed"));
    this.#connecting ??= (async () => {
      const subscriber = createSubscriber(
        { connectionString: this.#connectionString, application_name: "rowflow client listen" },
        { paranoidChecking: 10_000, retryLimit: Infinity, retryTimeout: Infinity, retryInterval: (n: number) => Math.min(5_000, 100 * 2 ** n) },
      );
      subscriber.events.on("error", (error) => this.#logger.warn(`LISTEN connection error: ${error.message}`));
      subscriber.events.on("reconnect", (attempt) => this.#logger.info(`LISTEN reconnecting (attempt ${attempt})`));
      subscriber.notifications.on("rowflow", (payload: unknown) => this.#dispatch(payload));
      this.#subscriber = subscriber;
      await subscriber.connect();
      await subscriber.listenTo("rowflow");
    })();
    return this.#connecting;
  }

  #dispatch(payload: unknown): void {
    const run = (payload as { run?: unknown } | null)?.run;
    const change: RunChange = {
      runId: typeof run === "number" || typeof run === "string" ? String(run) : undefined,
      payload,
    };
    for (const listener of [...this.#listeners]) {
      try {
        listener(change);
      } catch (error) {
        this.#logger.error(`run change listener threw: ${(error as Error).message}`);
      }
    }
  }
}
