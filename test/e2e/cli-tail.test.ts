// `rowflow tail` (src/cli/commands/tail.ts) as a real process, as a
// rowflow_viewer login, while a worker runs diamonds whose step b fails its
// first attempt: every transition once, each run's in a valid order, NDJSON
// that parses; --workflow filters, --run/--since replay a finished run as
// text lines; SIGINT and SIGTERM stop it, and it then ends by that signal.
import { afterEach, describe, expect, it } from "vitest";

import { createClient } from "../../src/client/create-client.js";
import { useTestDatabase } from "../helpers/db.js";
import { useLoginRoles } from "../helpers/roles.js";
import { type CliProcess, startCli } from "../helpers/run-cli.js";
import { waitFor } from "../helpers/wait-for.js";
import { startTestWorker } from "../helpers/worker.js";

const db = useTestDatabase();
const loginRole = useLoginRoles(db);
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

interface Line {
  at: string;
  runId: string;
  workflow: string;
  step: string | null;
  type: string;
  attempt: number | null;
  detail: string | null;
}

const lines = (cli: CliProcess): Line[] =>
  cli.out.stdout
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Line);
const label = (l: Line) =>
  `${l.step ?? "run"} ${l.type}${l.attempt === null ? "" : ` ${l.attempt}`}`;

/** The transitions of one diamond run whose b fails once, as `label` writes them. */
const diamondRun = [
  "run run_started",
  ...["a", "c", "d"].flatMap((s) => [
    `${s} step_queued 1`,
    `${s} step_started 1`,
    `${s} step_succeeded 1`,
  ]),
  "b step_queued 1",
  "b step_started 1",
  "b step_retrying 1",
  "b step_queued 2",
  "b step_started 2",
  "b step_succeeded 2",
  "run run_succeeded",
];
/** Each pair: the first comes before the second in a run's lines. */
const order: [string, string][] = [
  ["run run_started", "a step_queued 1"],
  ["a step_queued 1", "a step_started 1"],
  ["a step_started 1", "a step_succeeded 1"],
  ["a step_succeeded 1", "b step_queued 1"],
  ["a step_succeeded 1", "c step_queued 1"],
  ["b step_queued 1", "b step_started 1"],
  ["b step_started 1", "b step_retrying 1"],
  ["b step_retrying 1", "b step_queued 2"],
  ["b step_queued 2", "b step_started 2"],
  ["b step_started 2", "b step_succeeded 2"],
  ["c step_queued 1", "c step_started 1"],
  ["c step_started 1", "c step_succeeded 1"],
  ["b step_succeeded 2", "d step_queued 1"],
  ["c step_succeeded 1", "d step_queued 1"],
  ["d step_queued 1", "d step_started 1"],
  ["d step_started 1", "d step_succeeded 1"],
  ["d step_succeeded 1", "run run_succeeded"],
];

function tail(args: string[], url: string): CliProcess {
  const cli = startCli(["tail", "--interval", "200", "--database-url", url, ...args]);
  cleanup.push(async () => {
    if (cli.child.exitCode === null) cli.child.kill("SIGKILL");
    await cli.exited;
  });
  return cli;
}

describe("rowflow tail", () => {
  it("prints every transition once and in order while a worker runs; --workflow filters", async () => {
    const viewer = await loginRole("viewer", { memberOf: ["rowflow_viewer"] });
    const worker = await startTestWorker(db.url, {
      tasks: {
        "tail.ok": () => ({ ok: true }),
        "tail.flaky": (ctx) => {
          if (ctx.attempt === 1) throw new Error("b failed once");
          return { ok: true };
        },
      },
      workflows: [
        {
          name: "tail-diamond",
          spec: {
            steps: [
              { name: "a", task: "tail.ok" },
              {
                name: "b",
                task: "tail.flaky",
                dependsOn: ["a"],
                attempts: 2,
                backoff: { type: "fixed", base: "100 milliseconds", jitter: 0 },
              },
              { name: "c", task: "tail.ok", dependsOn: ["a"] },
              { name: "d", task: "tail.ok", dependsOn: ["b", "c"] },
            ],
          },
        },
        { name: "tail-other", spec: { steps: [{ name: "only", task: "tail.ok" }] } },
      ],
    });
    cleanup.push(() => worker.stop());
    const client = createClient({ connectionString: db.url, pollInterval: 200 });
    cleanup.push(() => client.close());

    const all = tail(["--json"], viewer.url);
    const diamonds = tail(["--json", "--workflow", "tail-diamond"], viewer.url);
    // Polling once a minute: within the test's deadlines only the NOTIFY hints make it read.
    const hinted = tail(["--json", "--interval", "60000"], viewer.url);
    // Each follows (and has marked itself waiting for hints) once its row is in rowflow.waiters.
    await waitFor(async () => {
      const { rows } = await db.query<{ n: number }>(
        "select count(*)::int as n from rowflow.waiters where channel = 'rowflow'",
      );
      return rows[0]!.n === 3;
    });

    const runs = [
      await client.startRun("tail-diamond", {}),
      await client.startRun("tail-other", {}),
      await client.startRun("tail-diamond", {}),
    ];
    for (const run of runs) {
      expect((await client.waitForRun(run, { timeout: 30_000 })).status).toBe("succeeded");
    }
    const finished = (cli: CliProcess, n: number) => () =>
      lines(cli).filter((l) => l.type === "run_succeeded").length === n;
    await waitFor(finished(all, 3), { message: () => all.out.stdout + all.out.stderr });
    await waitFor(finished(diamonds, 2), { message: () => diamonds.out.stdout });
    await waitFor(finished(hinted, 3), { message: () => hinted.out.stdout });

    const seen = lines(all);
    const filtered = lines(diamonds);
    const sorted = (ls: Line[]) => ls.map((l) => JSON.stringify(l)).sort();
    expect(sorted(lines(hinted))).toEqual(sorted(seen));
    for (const run of [runs[0]!, runs[2]!]) {
      for (const output of [seen, filtered]) {
        const mine = output.filter((l) => l.runId === run).map(label);
        expect([...mine].sort()).toEqual([...diamondRun].sort());
        for (const [first, then] of order) {
          expect(mine.indexOf(first), `${first} before ${then} in ${mine.join(", ")}`).toBeLessThan(
            mine.indexOf(then),
          );
        }
      }
    }
    expect(seen.filter((l) => l.runId === runs[1]).map(label)).toEqual([
      "run run_started",
      "only step_queued 1",
      "only step_started 1",
      "only step_succeeded 1",
      "run run_succeeded",
    ]);
    expect(seen).toHaveLength(2 * diamondRun.length + 5);
    expect(seen.find((l) => l.type === "step_retrying")).toMatchObject({
      workflow: "tail-diamond",
      step: "b",
      attempt: 1,
      detail: expect.stringMatching(/^b failed once; attempt 2 at /),
    });
    // --workflow: the same diamond lines and nothing else (the order between
    // concurrent transactions may differ: each tail reads when it reads).
    expect(sorted(filtered)).toEqual(sorted(seen.filter((l) => l.workflow === "tail-diamond")));

    all.child.kill("SIGINT");
    diamonds.child.kill("SIGTERM");
    hinted.child.kill("SIGINT");
    // Each stops, then ends by the signal it got (130/143 in a shell).
    expect(await hinted.exited).toEqual({ code: null, signal: "SIGINT" });
    expect(await all.exited).toEqual({ code: null, signal: "SIGINT" });
    expect(await diamonds.exited).toEqual({ code: null, signal: "SIGTERM" });
    expect(all.out.stderr).toBe("");

    // --run and --since replay a finished run as text lines.
    const replay = tail(["--run", runs[1]!, "--since", "10m"], viewer.url);
    await waitFor(() => replay.out.stdout.includes("run_succeeded"), {
      message: () => replay.out.stdout + replay.out.stderr,
    });
    const text = replay.out.stdout.trimEnd().split("\n");
    expect(text).toHaveLength(5);
    expect(text[2]).toMatch(
      new RegExp(
        `^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} run ${runs[1]} tail-other/only step_started attempt 1$`,
      ),
    );
    replay.child.kill("SIGTERM");
    expect(await replay.exited).toEqual({ code: null, signal: "SIGTERM" });
  });

  it("refuses bad options with exit 2", async () => {
    const bad = tail(["--run", "x"], db.url);
    expect((await bad.exited).code).toBe(2);
    expect(bad.out.stderr).toBe("rowflow: not a run id: x\n");
    const zero = tail(["--interval", "0"], db.url);
    expect((await zero.exited).code).toBe(2);
  });
});
