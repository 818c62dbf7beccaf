// poison: steps whose handler always throws, calls process.exit (its worker
// dies with it; a live worker releases the step after the heartbeat
// timeout), or loops forever ignoring its signal (its step timeout fails the
// attempt). Two attempts each, then the run fails; healthy diamond runs on
// the same workers must all succeed. Memory exhaustion is not included.
import { Harness, startRuns } from "../harness.js";
import { diamond, poison as poisonWorkflows } from "../workload.js";
import type { Scenario } from "./options.js";

export const poison: Scenario = {
  name: "poison",
  description: "handlers that throw, call process.exit, or loop ignoring their signal",
  async run(env, settings, o) {
    const healthy = o.runs ?? 500;
    const each = o.poison ?? 3;
    const h = await Harness.open(env, settings, [diamond, ...poisonWorkflows]);
    try {
      await h.fleet.start(settings.workers);
      h.startSampling();
      await startRuns(h.client, diamond.name, healthy);
      for (const w of poisonWorkflows) {
        await startRuns(h.client, w.name, each);
        h.fault();
      }
      const total = healthy + each * poisonWorkflows.length;
      const done = await h.waitDone(total);
      const summary = await h.finish("poison", done);
      const { rows } = await h.admin.query<{ workflow: string; status: string; n: number }>(
        "select workflow, status, count(*)::int as n from rowflow.runs group by 1, 2 order by 1, 2",
      );
      const got = Object.fromEntries(rows.map((r) => [`${r.workflow} ${r.status}`, r.n]));
      const want = {
        [`${diamond.name} succeeded`]: healthy,
        ...Object.fromEntries(poisonWorkflows.map((w) => [`${w.name} failed`, each])),
      };
      const sorted = (o: Record<string, number>) => JSON.stringify(Object.entries(o).sort());
      if (sorted(got) !== sorted(want))
        summary.problems.push(
          `runs by workflow and status: ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`,
        );
      // Each attempt of an exit step takes its worker down (two at once count once); it is
      // quarantined as poison once it was the attempt its worker started last at 3 deaths
      // (a step started later on the same worker can take that place), at the latest at
      // its 10th lost attempt (sql/schema/60_gate/fail_step.sql).
      if (summary.selfExits < 1 || summary.selfExits > each * 10)
        summary.problems.push(
          `${summary.selfExits} worker self-exits for ${each} process.exit steps`,
        );
      h.notes.push(
        `${healthy} healthy runs beside ${each} runs each of a throwing, a process.exit-ing and a hanging step (2 attempts); the self-exits are the exit steps' (expected: one per lost attempt, 3 to 10 per step)`,
      );
      return summary;
    } finally {
      await h.close();
    }
  },
};
