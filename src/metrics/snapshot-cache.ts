/**
 * One database answer shared by every scrape within `ttlMs` (and by the
 * metrics of one scrape, which all ask at once): a scrape is at most one
 * query, and a crowd of scrapers (Prometheus replicas, an autoscaler, a
 * person's curl) costs the database one query per `ttlMs`. A failed query is
 * not cached: the next scrape asks again.
 */
export class SnapshotCache<T> {
  readonly #fetch: () => Promise<T>;
  readonly #ttlMs: number;
  readonly #clock: () => number;
  #cached: { value: T; at: number } | undefined;
  #inFlight: Promise<T> | undefined;

  /** `clock` is in milliseconds (tests pass their own instead of sleeping). */
  constructor(
    fetch: () => Promise<T>,
    ttlMs: number,
    clock: () => number = () => performance.now(),
  ) {
    this.#fetch = fetch;
    this.#ttlMs = ttlMs;
    this.#clock = clock;
  }

  /** The cached answer while it is younger than the TTL, else a new one (one query in flight at a time). */
  get(): Promise<T> {
    const cached = this.#cached;
    if (cached && this.#clock() - cached.at < this.#ttlMs) return Promise.resolve(cached.value);
    this.#inFlight ??= this.#fetch()
      .then((value) => {
        this.#cached = { value, at: this.#clock() };
        return value;
      })
      .finally(() => {
        this.#inFlight = undefined;
      });
    return this.#inFlight;
  }
}
