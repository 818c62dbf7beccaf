// kill: SIGKILL a random worker of N every k seconds (a new one starts in its
// place) while the diamond runs drain; the faults stop once most runs have
// finished, and the rest measures recovery (heartbeat timeout: the killed
// workers' leases are released by a live worker).
import { Harness, sleep, startRuns } from "../harness.js";
import { diamond } from "../workload.js";
import type { Scenario } from "./options.js";

export const kill: Scenario = {
  name: "kill",
  description: "SIGKILL a random worker every k seconds, restarted at once",
  async run(env, settings, o) {
    const runs = o.runs ?? 10_000;
    const every = o.everyMs ?? 2_000;
    const until = o.faultUntil ?? 0.8;
    const h = await Harness.open(env, settings, [diamond]);
    try {
      await h.fleet.start(settings.workers);
      h.startSampling();
      await startRuns(h.client, diamond.name, runs);
      const deadline = Date.now() + (o.durationMs ?? Infinity);
      const maxFaults = o.maxFaults ?? Infinity;
      while (h.finished < until * runs && Date.now() < deadline && h.faults < maxFaults) {
        await sleep(every);
        if (h.finished >= until * runs) break;
        await h.fleet.kill(Math.floor(Math.random() * h.fleet.size));
        h.fault();
      }
      const done = await h.waitDone(runs);
      const summary = await h.finish("kill", done);
      if (summary.runs.failed > 0) summary.problems.push(`${summary.runs.failed} runs failed`);
      if (summary.selfExits > 0)
        summary.problems.push(`${summary.selfExits} workers exited by themselves`);
      h.notes.push(
        `${settings.workers} workers, a SIGKILL every ${every / 1000} s until ${Math.round(until * 100)} % of ${runs} runs had finished`,
      );
      return summary;
    } finally {
      await h.close();
    }
  },
};
