import type pg from "pg";

/** What a config's `dev` section gives `rowflow dev`. */
export interface DevHooks {
  /**
   * Creates (or resets) the app's tables before the worker starts, e.g. by
   * running a schema file. Runs on every `rowflow dev` start. (Default: none)
   */
  setup?: ((pool: pg.Pool) => Promise<void>) | undefined;
  /**
   * Acts like the app: inserts rows the attached triggers turn into runs.
   * `rowflow dev --once` waits for it and for every run it started to finish,
   * then exits. (Default: none)
   */
  demo?: ((pool: pg.Pool, tools: DemoTools) => Promise<void>) | undefined;
  /** SQL statements `rowflow dev` prints for people to paste into psql. (Default: a few generic ones) */
  tryInPsql?: readonly string[] | undefined;
}

/** Helpers handed to `DevHooks.demo`. */
export interface DemoTools {
  /** Polls `check` until it returns true (or throws after `timeoutMs`). */
  until(check: () => Promise<boolean>, what: string, timeoutMs?: number): Promise<void>;
  /** Progress lines go here (the progress display keeps its place). */
  log(line: string): void;
}
