// backend-kill: pg_terminate_backend from outside, alternately of every
// backend of the workers and of their LISTEN connections only; the workers
// reconnect (and re-LISTEN) by themselves.
import { Harness, sleep, startRuns } from "../harness.js";
import { diamond } from "../workload.js";
import type { Scenario } from "./options.js";

const allWorkerBackends = `select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
  where datname = current_database() and application_name like 'rowflow worker%'`;
const listenBackends = `select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
  where datname = current_database() and application_name like 'rowflow worker%' and query ilike 'listen%'`;

export const backendKill: Scenario = {
  name: "backend-kill",
  description: "pg_terminate_backend of all worker backends, or of the LISTEN connections only",
  async run(env, settings, o) {
    const runs = o.runs ?? 5_000;
    const every = o.everyMs ?? 2_000;
    const until = o.faultUntil ?? 0.8;
    const h = await Harness.open(env, settings, [diamond]);
    try {
      await h.fleet.start(settings.workers);
      h.startSampling();
      await startRuns(h.client, diamond.name, runs);
      let all = 0;
      let listen = 0;
      let ended = 0;
      const deadline = Date.now() + (o.durationMs ?? Infinity);
      const maxFaults = o.maxFaults ?? Infinity;
      while (h.finished < until * runs && Date.now() < deadline && h.faults < maxFaults) {
        await sleep(every);
        if (h.finished >= until * runs) break;
        const everything = h.faults % 2 === 0;
        const { rows } = await h.admin.query<{ n: number }>(
          everything ? allWorkerBackends : listenBackends,
        );
        ended += rows[0]!.n;
        if (everything) all++;
        else listen++;
        h.fault();
      }
      const done = await h.waitDone(runs);
      const summary = await h.finish("backend-kill", done);
      if (summary.runs.failed > 0) summary.problems.push(`${summary.runs.failed} runs failed`);
      if (summary.selfExits > 0)
        summary.problems.push(`${summary.selfExits} workers exited by themselves`);
      h.notes.push(
        `${all} terminations of every worker backend and ${listen} of the LISTEN connections only: ${ended} backends ended`,
      );
      return summary;
    } finally {
      await h.close();
    }
  },
};
