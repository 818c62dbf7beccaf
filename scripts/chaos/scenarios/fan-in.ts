// fan-in: runs of a → (b1 … bN) → join on several workers: the N branches of
// a run finish on different workers at the same moment and race to release
// the join, which must run exactly once (invariant 3; its ledger row shows it).
import { Harness, startRuns } from "../harness.js";
import { fanIn as fanInWorkflow } from "../workload.js";
import type { Scenario } from "./options.js";

export const fanIn: Scenario = {
  name: "fan-in",
  description: "many joins racing: a → (b1 … bN) → join",
  async run(env, settings, o) {
    const joins = o.joins ?? 2_000;
    const width = o.width ?? 8;
    const workflow = fanInWorkflow(width);
    const h = await Harness.open(env, settings, [workflow]);
    try {
      await h.fleet.start(settings.workers);
      h.startSampling();
      await startRuns(h.client, workflow.name, joins);
      const done = await h.waitDone(joins);
      const summary = await h.finish("fan-in", done);
      const { rows } = await h.admin.query<{ joins: number; once: number }>(
        `select count(*)::int as joins, count(*) filter (where n = 1)::int as once
         from (select count(l.run_id) as n from rowflow.runs as r
               left join chaos_ledger as l on l.run_id = r.id and l.step = 'join' group by r.id) as j`,
      );
      if (rows[0]!.once !== joins)
        summary.problems.push(
          `${joins - rows[0]!.once} of ${joins} joins did not run exactly once`,
        );
      if (summary.runs.succeeded !== joins)
        summary.problems.push(`${joins - summary.runs.succeeded} runs did not succeed`);
      h.notes.push(`${joins} joins of ${width} branches each, ${settings.workers} workers`);
      return summary;
    } finally {
      await h.close();
    }
  },
};
