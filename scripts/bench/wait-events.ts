// --wait-events: samples pg_stat_activity while the scenarios run and tells,
// per scenario and variant, what the busy backends were doing: on CPU
// (no wait event) or waiting, and on what. Each variant runs in a database
// of its own (BenchServer.freshDatabase), so a sample is attributed by
// database name. One query per tick from one extra connection; it costs a
// little CPU, so figures taken with it are not the ones to publish.
import pg from "pg";

/** Counts of one (scenario, variant): backend-samples per wait event. */
export interface WaitProfile {
  scenario: string;
  variant: string;
  /** Sampler ticks while the variant's database existed. */
  ticks: number;
  /** Backend-samples per "type:event" ("CPU" when the backend waited on nothing). */
  events: Record<string, number>;
}

/** One row of the printed summary. */
export interface WaitRow {
  scenario: string;
  variant: string;
  /** Mean number of active (or idle in transaction) backends per tick. */
  busyBackends: number;
  /** The most frequent events, share of all backend-samples of the variant. */
  top: Array<{ event: string; share: number }>;
}

const sampleSql = `
  select a.datname,
         case when a.wait_event is null then 'CPU'
              else a.wait_event_type || ':' || a.wait_event end as event,
         count(*)::int as n
  from pg_catalog.pg_stat_activity as a
  where a.backend_type = 'client backend'
    and a.state in ('active', 'idle in transaction')
    and a.pid <> pg_catalog.pg_backend_pid()
    and a.datname = any ($1::text[])
  group by 1, 2`;

/** Polls pg_stat_activity every `intervalMs` until stopped. */
export class WaitSampler {
  readonly #client: pg.Client;
  readonly #intervalMs: number;
  readonly #tracked = new Map<string, WaitProfile>();
  readonly #profiles: WaitProfile[] = [];
  #stopped = false;
  #loop: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  #error: unknown;
  #stopping: Promise<void> | undefined;

  private constructor(client: pg.Client, intervalMs: number) {
    this.#client = client;
    this.#intervalMs = intervalMs;
  }

  static async start(adminUrl: string, intervalMs = 10): Promise<WaitSampler> {
    const client = new pg.Client({
      connectionString: adminUrl,
      application_name: "rowflow-bench-waits",
    });
    await client.connect();
    const sampler = new WaitSampler(client, intervalMs);
    sampler.#loop = sampler.#run().catch((error: unknown) => {
      sampler.#error = error;
    });
    return sampler;
  }

  /** Attributes samples of `database` to (scenario, variant) until `untrack`. */
  track(database: string, scenario: string, variant: string): void {
    const profile: WaitProfile = { scenario, variant, ticks: 0, events: {} };
    this.#profiles.push(profile);
    this.#tracked.set(database, profile);
  }

  untrack(database: string): void {
    this.#tracked.delete(database);
  }

  /** Every profile, one per tracked database (a variant's reps are merged by `summarizeWaits`). */
  get profiles(): readonly WaitProfile[] {
    return this.#profiles;
  }

  /** Ends the sampling (idempotent); throws if a sample query failed. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#stopped = true;
      if (this.#timer) clearTimeout(this.#timer);
      this.#wake?.();
      await this.#loop;
      await this.#client.end().catch(() => {});
      if (this.#error) throw new Error(`wait-event sampler failed: ${String(this.#error)}`);
    })();
    return this.#stopping;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const databases = [...this.#tracked.keys()];
      if (databases.length > 0) {
        const { rows } = await this.#client.query<{ datname: string; event: string; n: number }>(
          sampleSql,
          [databases],
        );
        for (const name of databases) {
          const profile = this.#tracked.get(name);
          if (profile) profile.ticks += 1;
        }
        for (const row of rows) {
          const events = this.#tracked.get(row.datname)?.events;
          if (events) events[row.event] = (events[row.event] ?? 0) + row.n;
        }
      }
      if (this.#stopped) break;
      // The sampling period (not a test wait): the next tick, or stop().
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#timer = setTimeout(resolve, this.#intervalMs);
      });
    }
  }
}

/** Merges the profiles of each (scenario, variant) and keeps its `top` events. */
export function summarizeWaits(profiles: readonly WaitProfile[], top = 4): WaitRow[] {
  const merged = new Map<string, WaitProfile>();
  for (const p of profiles) {
    const key = `${p.scenario}\u0000${p.variant}`;
    const into = merged.get(key) ?? {
      scenario: p.scenario,
      variant: p.variant,
      ticks: 0,
      events: {},
    };
    into.ticks += p.ticks;
    for (const [event, n] of Object.entries(p.events))
      into.events[event] = (into.events[event] ?? 0) + n;
    merged.set(key, into);
  }
  return [...merged.values()].map((p) => {
    const total = Object.values(p.events).reduce((a, b) => a + b, 0);
    return {
      scenario: p.scenario,
      variant: p.variant,
      busyBackends: p.ticks === 0 ? 0 : total / p.ticks,
      top: Object.entries(p.events)
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .slice(0, top)
        .map(([event, n]) => ({ event, share: total === 0 ? 0 : n / total })),
    };
  });
}

/** The summary as aligned text lines, for the console. */
export function formatWaits(rows: readonly WaitRow[]): string {
  const lines = rows.map((r) => [
    r.scenario,
    r.variant,
    r.busyBackends.toFixed(2),
    r.top.map((t) => `${t.event} ${(t.share * 100).toFixed(0)}%`).join(", "),
  ]);
  const header = [
    "scenario",
    "variant",
    "busy backends",
    "top wait events (share of backend-samples)",
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? "").length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [fmt(header), fmt(widths.map((w) => "-".repeat(w))), ...lines.map(fmt)].join("\n");
}
