/**
 * One LISTEN connection per client on channel `rowflow` (pg-listen, which
 * reconnects by itself). Notifications are hints (invariant 5, docs/architecture.md):
 * `{"run": id}` for one run, or a batch summary without a run id, which
 * wakes every waiter. Connected lazily, on the first wait or subscription.
 *
 * The engine NOTIFYs 'rowflow' only while a live row in `rowflow.waiters`
 * says somebody listens (sql/schema/80_wake/), so the listener marks this client waiting
 * while it has listeners: `add()` resolves once the mark is written (a
 * change committed after that wakes it), and the mark is removed when the
 * last listener has been gone for `unmarkDelayMs` (back-to-back waits do not
 * write the row each time) and at `close()`.
 */
import { randomBytes } from "node:crypto";

import pgListen, { type Subscriber } from "pg-listen";

// pg-listen is CommonJS with `exports.default`: under Node's ESM interop the
// default import is the exports object.
const createSubscriber = pgListen.default;

import type { Queryable } from "../db/queryable.js";
import { waitersOn } from "../db/waiters/waiters.js";
import type { Logger } from "../definition/logger.js";
import { WaitingMark } from "../wake/waiting-mark.js";

/** The waiter row expires this long after its last write; it is rewritten every third of it. */
const markTtlMs = 60_000;
/** The mark stays this long after the last listener left. */
const unmarkDelayMs = 2_000;

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
  readonly #mark: WaitingMark;
  #unmarkTimer: NodeJS.Timeout | undefined;
  #refreshTimer: NodeJS.Timeout | undefined;

  constructor(connectionString: string, logger: Logger, db: Queryable) {
    this.#connectionString = connectionString;
    this.#logger = logger;
    this.#mark = new WaitingMark({
      waiters: waitersOn(db),
      id: `client-${randomBytes(9).toString("hex")}`,
      channel: "rowflow",
      ttlMs: markTtlMs,
      logger,
    });
  }

  /** Adds a listener, makes sure the LISTEN connection is up and the client marked waiting; returns the remover. */
  async add(listener: RunChangeListener): Promise<() => void> {
    this.#listeners.add(listener);
    clearTimeout(this.#unmarkTimer);
    try {
      await this.#connect();
      await this.#markWaiting();
    } catch (error) {
      // Polling still works without notifications; say so once per failure.
      this.#logger.warn(`LISTEN rowflow failed, relying on polling: ${(error as Error).message}`);
      this.#connecting = undefined;
    }
    return () => {
      if (!this.#listeners.delete(listener) || this.#listeners.size > 0 || this.#closed) return;
      clearTimeout(this.#unmarkTimer);
      this.#unmarkTimer = setTimeout(() => {
        if (this.#listeners.size > 0) return;
        clearInterval(this.#refreshTimer);
        this.#refreshTimer = undefined;
        void this.#mark.set(false);
      }, unmarkDelayMs);
      this.#unmarkTimer.unref();
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    clearTimeout(this.#unmarkTimer);
    clearInterval(this.#refreshTimer);
    await this.#connecting?.catch(() => {});
    await this.#mark.close();
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    await subscriber?.close().catch(() => {});
  }

  #connect(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("client is closed"));
    this.#connecting ??= (async () => {
      const subscriber = createSubscriber(
        { connectionString: this.#connectionString, application_name: "rowflow client listen" },
        {
          paranoidChecking: 10_000,
          retryLimit: Infinity,
          retryTimeout: Infinity,
          retryInterval: (n: number) => Math.min(5_000, 100 * 2 ** n),
        },
      );
      subscriber.events.on("error", (error) =>
        this.#logger.warn(`LISTEN connection error: ${error.message}`),
      );
      subscriber.events.on("reconnect", (attempt) =>
        this.#logger.info(`LISTEN reconnecting (attempt ${attempt})`),
      );
      subscriber.notifications.on("rowflow", (payload: unknown) => this.#dispatch(payload));
      this.#subscriber = subscriber;
      await subscriber.connect();
      await subscriber.listenTo("rowflow");
    })();
    return this.#connecting;
  }

  async #markWaiting(): Promise<void> {
    if (this.#closed) return;
    if (!this.#refreshTimer) {
      this.#refreshTimer = setInterval(() => void this.#mark.refresh(), markTtlMs / 3);
      this.#refreshTimer.unref();
    }
    await this.#mark.set(true);
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
