// no-notify: NOTIFY never reaches anybody. Writers NOTIFY only while a row of
// rowflow.waiters says somebody waits (sql/schema/80_wake/), so a trigger in
// this scenario's database throws every waiter mark away (and counts the
// marks): no NOTIFY is ever sent, and the workers must find every step and
// every queued run by polling (invariant 5).
import { Harness, startRuns } from "../harness.js";
import { diamond } from "../workload.js";
import type { Scenario } from "./options.js";

const blockMarks = `
  create table chaos_blocked_marks (n bigint not null);
  insert into chaos_blocked_marks values (0);
  create function chaos_block_mark() returns trigger language plpgsql as $$
  begin
    update public.chaos_blocked_marks set n = n + 1;
    return null;
  end $$;
  create trigger chaos_block_mark before insert or update on rowflow.waiters
    for each row execute function chaos_block_mark();
  delete from rowflow.waiters;
`;

export const noNotify: Scenario = {
  name: "no-notify",
  description: "no NOTIFY is ever sent: every step is found by polling",
  async run(env, settings, o) {
    const runs = o.runs ?? 2_000;
    const h = await Harness.open(env, settings, [diamond]);
    try {
      await h.admin.query(blockMarks);
      await h.fleet.start(settings.workers);
      h.startSampling();
      await startRuns(h.client, diamond.name, runs);
      const done = await h.waitDone(runs);
      const summary = await h.finish("no-notify", done);
      const { rows } = await h.admin.query<{ marks: number; waiters: number }>(
        `select (select n::int from chaos_blocked_marks) as marks,
                (select count(*)::int from rowflow.waiters) as waiters`,
      );
      const { marks, waiters } = rows[0]!;
      if (summary.runs.succeeded !== runs)
        summary.problems.push(`${runs - summary.runs.succeeded} runs did not succeed`);
      if (waiters > 0)
        summary.problems.push(`${waiters} waiter rows exist: NOTIFYs may have been sent`);
      if (marks === 0)
        summary.problems.push("no worker ever asked for a NOTIFY: the fault was not exercised");
      h.notes.push(
        `${marks} waiter marks thrown away, so no NOTIFY was sent; workers polled every ${settings.pollInterval} ms`,
      );
      return summary;
    } finally {
      await h.close();
    }
  },
};
