// pg-restart: the server restarts every 5-10 s (--every 5: 5 to 10), alternately in fast mode
// (sessions ended, a clean shutdown) and immediate mode (a crash: WAL
// recovery at start), while a producer keeps starting 50 diamond runs a
// second (a start call the restart breaks is skipped; one whose commit it cut
// off may or may not exist, so the figures are the database's own counts). Only when
// this script controls the server: the embedded one, or DATABASE_URL's with
// --data-dir and --pg-ctl.
import { Harness, sleep } from "../harness.js";
import type { ShutdownMode } from "../server.js";
import { diamond } from "../workload.js";
import type { Scenario } from "./options.js";

export const pgRestart: Scenario = {
  name: "pg-restart",
  description: "restart Postgres every 5-10 s, alternating fast and immediate shutdown",
  async run(env, settings, o) {
    const restart = env.restart;
    if (!restart) throw new Error("pg-restart needs a server the script can restart");
    const duration = o.durationMs ?? 60_000;
    const every = o.everyMs ?? 5_000; // the next restart after every … 2 × every
    const rate = 50; // runs started per second
    const h = await Harness.open(env, settings, [diamond]);
    try {
      await h.fleet.start(settings.workers);
      h.startSampling();
      let producing = true;
      let startFailures = 0;
      const producer = (async () => {
        let i = 0;
        while (producing) {
          const inputs = Array.from({ length: rate / 5 }, () => ({ i: i++ }));
          await h.client.startRuns(diamond.name, inputs).catch(() => startFailures++);
          await sleep(200);
        }
      })();
      const end = Date.now() + duration;
      const restarts: string[] = [];
      let mode: ShutdownMode = "fast";
      await sleep(Math.min(3_000, every)); // a stretch without faults, for the "before" figure
      // The producer stops at the last restart: what follows is recovery and the backlog.
      for (;;) {
        const began = Date.now();
        await restart(mode);
        h.fault();
        restarts.push(`${mode} ${((Date.now() - began) / 1000).toFixed(1)} s`);
        mode = mode === "fast" ? "immediate" : "fast";
        const gap = every + Math.random() * every;
        if (Date.now() + gap > end) break;
        await sleep(gap);
      }
      producing = false;
      await producer;
      const total = (await h.client.runCounts()).total;
      const done = await h.waitDone(total);
      const summary = await h.finish("pg-restart", done);
      if (summary.runs.failed > 0) summary.problems.push(`${summary.runs.failed} runs failed`);
      if (summary.selfExits > 0)
        summary.problems.push(`${summary.selfExits} workers exited by themselves`);
      h.notes.push(
        `${restarts.length} restarts in ${(duration / 1000).toFixed(0)} s (mode and time down to up: ${restarts.join(", ")}); ${startFailures} start calls failed during restarts (skipped)`,
      );
      return summary;
    } finally {
      await h.close();
    }
  },
};
