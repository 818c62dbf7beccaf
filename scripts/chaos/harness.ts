// What every chaos scenario shares: its database set up (ledger table,
// workflows), the worker fleet, a sampler of rowflow.run_counts (throughput
// before, during and after the faults), the fault clock, the wait for the
// end, and the checks behind the summary line (summary.ts).
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import pg from "pg";

import { type Client, createClient } from "../../src/client/create-client.js";
import type { RunCounts } from "../../src/db/runs/run-counts.js";
import { syncWorkflows } from "../../src/definition/sync.js";
import { WorkerFleet } from "./fleet.js";
import type { Restart } from "./server.js";
import { phaseRates, type Summary } from "./summary.js";
import { setupSql } from "./workload.js";

/** What a scenario is given: its own migrated, empty database, and the means to restart its server. */
export interface ChaosEnv {
  url: string;
  restart?: Restart | undefined;
  log: (line: string) => void;
}

/** Sizes and settings common to the scenarios (npm run chaos options). */
export interface ChaosSettings {
  workers: number;
  concurrency: number;
  /** A ledger step's handler time after its write. */
  stepMs: number;
  /** Worker poll interval (ms): how fast work is found without NOTIFY. */
  pollInterval: number;
  /** Worker heartbeat timeout (ms); undefined: rowflow's default (30 s). */
  heartbeatTimeout: number | undefined;
  /** Give up waiting for the runs to end after this long (ms) past the last fault. */
  doneTimeoutMs: number;
}

export interface Sample {
  t: number;
  counts: RunCounts;
}

export class Harness {
  readonly env: ChaosEnv;
  readonly settings: ChaosSettings;
  readonly fleet: WorkerFleet;
  readonly client: Client;
  readonly admin: pg.Pool;
  readonly samples: Sample[] = [];
  readonly notes: string[] = [];
  faults = 0;
  firstFault: number | undefined;
  lastFault: number | undefined;
  loadStart = Date.now();
  readonly #externalDir: string;
  #sampler: NodeJS.Timeout | undefined;
  readonly #started = Date.now();

  private constructor(env: ChaosEnv, settings: ChaosSettings, externalDir: string) {
    this.env = env;
    this.settings = settings;
    this.#externalDir = externalDir;
    this.fleet = new WorkerFleet({
      url: env.url,
      concurrency: settings.concurrency,
      pollInterval: settings.pollInterval,
      heartbeatTimeout: settings.heartbeatTimeout,
      heartbeatInterval:
        settings.heartbeatTimeout === undefined
          ? undefined
          : Math.max(100, Math.floor(settings.heartbeatTimeout / 4)),
      stepMs: settings.stepMs,
      externalDir,
    });
    this.client = createClient({ connectionString: env.url, pollInterval: 500 });
    this.admin = new pg.Pool({
      connectionString: env.url,
      max: 4,
      application_name: "rowflow chaos",
    });
    // A restart or a terminate_backend ends idle connections too: not an error here.
    this.admin.on("error", () => {});
  }

  /** Sets up the database (ledger, `workflows`) and returns the harness; workers are not started yet. */
  static async open(
    env: ChaosEnv,
    settings: ChaosSettings,
    workflows: ReadonlyArray<{ name: string; spec: object }>,
  ): Promise<Harness> {
    const externalDir = await mkdtemp(path.join(tmpdir(), "rowflow-chaos-external-"));
    const h = new Harness(env, settings, externalDir);
    await h.admin.query(setupSql);
    await syncWorkflows(h.admin, workflows as never);
    return h;
  }

  /** Samples the run counts every 250 ms from now on (a failed read, e.g. during a restart, is skipped). */
  startSampling(): void {
    this.loadStart = Date.now();
    const sample = async () => {
      try {
        this.samples.push({ t: Date.now(), counts: await this.client.runCounts() });
      } catch {
        // the server may be restarting
      }
    };
    void sample();
    this.#sampler = setInterval(() => void sample(), 250);
  }

  /** Records that a fault happened now. */
  fault(): void {
    const now = Date.now();
    this.faults++;
    this.firstFault ??= now;
    this.lastFault = now;
  }

  /** Finished runs (succeeded + failed + cancelled) in the last sample. */
  get finished(): number {
    const c = this.samples.at(-1)?.counts;
    return c ? c.total - c.active : 0;
  }

  /** Total runs in the last sample. */
  get total(): number {
    return this.samples.at(-1)?.counts.total ?? 0;
  }

  /** Waits until at least `expected` runs exist and none is active; false after the timeout. */
  async waitDone(expected: number): Promise<number | undefined> {
    const deadline = Date.now() + this.settings.doneTimeoutMs;
    for (;;) {
      try {
        const c = await this.client.runCounts();
        if (c.total >= expected && c.active === 0) {
          const at = Date.now();
          this.samples.push({ t: at, counts: c });
          return at;
        }
      } catch {
        // retried until the deadline
      }
      if (Date.now() > deadline) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Stops the workers and the sampler, checks the database, and answers the summary. */
  async finish(scenario: string, doneAt: number | undefined): Promise<Summary> {
    clearInterval(this.#sampler);
    await this.fleet.stop();
    const counts = await this.client.runCounts();
    const { rows } = await this.admin.query<{
      missing: number;
      doubled: number;
      phantom: number;
      stuck: number;
      jobs: number;
      lost: number;
      last_lost: Date | null;
      most_lost: number;
    }>(
      `with l as (select run_id, step, count(*)::int as n from chaos_ledger group by 1, 2),
            s as (select s.run_id, s.step, s.status from rowflow.step_runs as s
                  join rowflow.runs as r on r.id = s.run_id
                  where s.kind = 'step' and r.workflow in ('chaos-diamond', 'chaos-fan-in'))
       select (select count(*)::int from s left join l using (run_id, step)
               where s.status = 'succeeded' and l.n is null) as missing,
              (select coalesce(sum(l.n - 1), 0)::int from l where l.n > 1)
                + (select count(*)::int from s join l using (run_id, step) where s.status <> 'succeeded') as doubled,
              (select count(*)::int from l where not exists
                 (select 1 from rowflow.step_runs as x where x.run_id = l.run_id and x.step = l.step)) as phantom,
              (select count(*)::int from rowflow.step_runs where status in ('pending', 'queued', 'running')) as stuck,
              (select count(*)::int from graphile_worker._private_jobs) as jobs,
              (select count(*)::int from rowflow.events where data -> 'error' ->> 'kind' = 'worker_lost') as lost,
              (select max(at) from rowflow.events where data -> 'error' ->> 'kind' = 'worker_lost') as last_lost,
              (select coalesce(max(n), 0)::int from (select count(*) as n from rowflow.events
                 where data -> 'error' ->> 'kind' = 'worker_lost' group by run_id, step) as x) as most_lost`,
    );
    const r = rows[0]!;
    const rates = phaseRates(this.samples, {
      start: this.loadStart,
      firstFault: this.firstFault,
      lastFault: this.lastFault,
      end: doneAt ?? Date.now(),
    });
    if (this.lastFault !== undefined) {
      const left = this.samples.filter((s) => s.t <= this.lastFault!).at(-1)?.counts.active;
      const lostAfter =
        r.last_lost === null ? undefined : (r.last_lost.getTime() - this.lastFault) / 1000;
      this.notes.push(
        `at the last fault ${left ?? "?"} runs were unfinished` +
          (lostAfter === undefined
            ? ""
            : `; the last lost attempt was recorded ${Math.abs(lostAfter).toFixed(1)} s ${lostAfter >= 0 ? "after" : "before"} it`),
      );
    }
    if (r.lost > 0) this.notes.push(`the most lost attempts of one step: ${r.most_lost}`);
    const problems: string[] = [];
    if (doneAt === undefined)
      problems.push(
        `${counts.active} runs still active ${this.settings.doneTimeoutMs / 1000} s after the last fault`,
      );
    if (r.missing > 0) problems.push(`${r.missing} succeeded steps without their ledger row`);
    if (r.doubled + r.phantom > 0) problems.push(`${r.doubled + r.phantom} ledger rows too many`);
    if (r.stuck > 0) problems.push(`${r.stuck} steps not finished`);
    if (r.jobs > 0) problems.push(`${r.jobs} graphile jobs left`);
    return {
      scenario,
      problems,
      notes: this.notes,
      runs: counts,
      ledgerMissing: r.missing,
      ledgerDoubled: r.doubled + r.phantom,
      externalDuplicates: await this.#externalDuplicates(),
      faults: this.faults,
      recoverySeconds:
        doneAt !== undefined && this.lastFault !== undefined
          ? (doneAt - this.lastFault) / 1000
          : undefined,
      selfExits: this.fleet.selfExits.length,
      stuckSteps: r.stuck,
      lostAttempts: r.lost,
      throughput: rates,
      seconds: (Date.now() - this.#started) / 1000,
    };
  }

  async close(): Promise<void> {
    clearInterval(this.#sampler);
    await this.fleet.stop();
    await this.client.close();
    await this.admin.end();
    await rm(this.#externalDir, { recursive: true, force: true });
  }

  /** External effects written more than once for the same idempotency key. */
  async #externalDuplicates(): Promise<number> {
    const seen = new Set<string>();
    let lines = 0;
    for (const file of await readdir(this.#externalDir)) {
      for (const key of (await readFile(path.join(this.#externalDir, file), "utf8")).split("\n")) {
        if (!key) continue;
        lines++;
        seen.add(key);
      }
    }
    return lines - seen.size;
  }
}

/** Starts `n` runs of `workflow` in batches of 1,000; answers their ids. */
export async function startRuns(client: Client, workflow: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 1000) {
    const inputs = Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({ i: i + j }));
    ids.push(...(await client.startRuns(workflow, inputs)));
  }
  return ids;
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
