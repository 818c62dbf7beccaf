// `rowflow signal`, `rowflow tasks` and `rowflow task complete | claim |
// reassign` (src/cli/commands/signal.ts, tasks.ts; docs/cli.md): what
// became of a signal and its exit code (0 delivered/kept, 3 not taken, 2 bad
// usage), the task list and an inbox, and a task's refusals (RF065 with its
// hint, RF066 with every problem) before it is reassigned, claimed and
// completed. The rows are put in place with the SQL functions (no worker);
// each command is a child process (~1 s), so independent ones run together.
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../helpers/db.js";
import { type CliResult, runCli } from "../helpers/run-cli.js";
import { define, runStep, startRun, stepRow } from "../sql/support.js";
import { arm } from "../sql/waits/wait-support.js";

const db = useTestDatabase();
const cli = (...args: string[]) => runCli([...args, "--database-url", db.url]);
const all = (...commands: string[][]) => Promise.all(commands.map((args) => cli(...args)));
const ok = (result: CliResult) => {
  expect(result, result.stderr).toMatchObject({ code: 0, stderr: "" });
  return result.stdout;
};

const form = {
  type: "object",
  required: ["approved"],
  properties: { approved: { type: "boolean" } },
  additionalProperties: false,
};

describe("rowflow signal, tasks, task", () => {
  it("signals a run, lists tasks, refuses wrong answers and actors, reassigns, claims and completes", async () => {
    await define(db.pool, "buy", {
      steps: [
        { name: "order", task: "t" },
        { name: "pay", dependsOn: ["order"], wait: { signal: "payment-confirmed" } },
        {
          name: "approve",
          dependsOn: ["order"],
          human: { assignee: "$.input.manager", title: "Approve the order", form, due: "1 hour" },
        },
        { name: "ship", task: "t", dependsOn: ["pay", "approve"] },
      ],
    });
    // Run a: its payment waits now, its task is due in a year. Run b: its
    // payment is not waiting yet (a signal is kept), its task is overdue.
    const a = await startRun(db.pool, "buy", { manager: "ann" });
    const b = await startRun(db.pool, "buy", { manager: "bob" });
    for (const run of [a, b]) await runStep(db.pool, run, "order", {});
    const soon = new Date(Date.now() + 365 * 86_400_000).toISOString();
    await arm(db.pool, a, "pay", soon);
    const taskA = String((await arm(db.pool, a, "approve", soon)).task);
    const taskB = String((await arm(db.pool, b, "approve", "2020-01-01T00:00:00Z")).task);

    const [delivered, kept, unknown, badPayload, list, inbox, wrongAnswer, notTheirs, shown] =
      await all(
        ["signal", String(a), "payment-confirmed", "--payload", '{"amount": 5}', "--json"],
        ["signal", String(b), "payment-confirmed"],
        ["signal", "999999", "payment-confirmed"],
        ["signal", String(a), "payment-confirmed", "--payload", "{amount"],
        ["tasks", "--json"],
        ["tasks", "--assignee", "bob", "--overdue"],
        ["task", "complete", taskA, "--as", "ann", "--answer", '{"approved": "yes", "note": 1}'],
        ["task", "claim", taskA, "--as", "mallory"],
        ["show", String(b)],
      );
    // rowflow show says what a waiting step waits for.
    expect(ok(shown!)).toMatch(new RegExp(`approve +│ waiting for task ${taskB} `));
    expect(ok(shown!)).toMatch(/pay +│ queued /);
    expect(JSON.parse(ok(delivered!))).toMatchObject({
      ok: true,
      status: "delivered",
      run: a,
      step: "pay",
      released: [],
      runStatus: "running",
    });
    expect(await stepRow(db.pool, a, "pay")).toMatchObject({
      status: "succeeded",
      output: { amount: 5 },
    });
    expect(ok(kept!)).toBe(
      `signal payment-confirmed to run ${b}: kept for step pay, which has not started waiting yet\n`,
    );
    expect(unknown).toMatchObject({
      code: 3,
      stdout: "signal payment-confirmed to run 999999: unknown run; nothing stored\n",
    });
    expect(badPayload).toMatchObject({ code: 2, stdout: "" });
    expect(badPayload!.stderr).toContain("--payload is not JSON: {amount");

    const tasks = JSON.parse(ok(list!)) as Array<Record<string, unknown>>;
    expect(tasks.map((t) => [t.id, t.assignee, t.status, t.overdue, t.runId, t.step])).toEqual([
      [taskB, "bob", "open", true, String(b), "approve"],
      [taskA, "ann", "open", false, String(a), "approve"],
    ]);
    const rows = ok(inbox!).split("\n");
    expect(rows[1]).toMatch(/task .*assignee .*title .*status .*due .*run .*workflow .*step/);
    expect(rows.filter((r) => r.includes("Approve the order"))).toHaveLength(1);
    expect(ok(inbox!)).toMatch(
      new RegExp(
        `${taskB} .*bob .*Approve the order .*open, overdue .*2020-01-01 01:00:00 .*${b} .*buy .*approve`,
      ),
    );

    expect(wrongAnswer).toMatchObject({ code: 1, stdout: "" });
    expect(wrongAnswer!.stderr.split("\n")).toEqual([
      expect.stringMatching(
        /^rowflow: complete_task: the answer does not match the form of task \d+: .* \[RF066\]$/,
      ),
      expect.stringMatching(/^ {2}- .*approved/),
      expect.stringMatching(/^ {2}- .*note/),
      "hint: The task stays open; send a corrected answer.",
      "",
    ]);
    expect(notTheirs).toMatchObject({ code: 1, stdout: "" });
    expect(notTheirs!.stderr).toBe(
      `rowflow: claim_task: task ${taskA} is assigned to ann, not to mallory (nor to one of their groups {}) [RF065]\n` +
        "hint: An operator may act for them with override => true, or reassign the task.\n",
    );

    expect(
      ok(await cli("task", "reassign", taskA, "--to", "bob", "--as", "ann", "--reason", "away")),
    ).toBe(`task ${taskA} reassigned to bob by ann; it is open\n`);
    expect(ok(await cli("task", "claim", taskA, "--as", "bob"))).toBe(
      `task ${taskA} claimed by bob\n`,
    );
    const done = await cli(
      "task",
      "complete",
      taskA,
      "--as",
      "bob",
      "--answer",
      '{"approved": true}',
      "--json",
    );
    expect(JSON.parse(ok(done))).toMatchObject({
      ok: true,
      task: Number(taskA),
      run: a,
      step: "approve",
      by: "bob",
      released: ["ship"],
    });
    expect(await stepRow(db.pool, a, "approve")).toMatchObject({
      status: "succeeded",
      output: { approved: true },
    });

    const [again, late] = await all(
      ["task", "complete", taskA, "--as", "bob", "--answer", '{"approved": false}'],
      ["signal", String(a), "payment-confirmed"],
    );
    expect(again).toMatchObject({ code: 1, stdout: "" });
    expect(again!.stderr).toMatch(
      new RegExp(
        `^rowflow: complete_task: task ${taskA} is done \\[RF064\\]\nhint: bob completed it at `,
      ),
    );
    expect(late!.code).toBe(3);
    expect(late!.stdout).toMatch(
      new RegExp(`^signal payment-confirmed to run ${a}: unexpected: no unfinished step`),
    );
    const { rows: events } = await db.query<{ type: string; by: string }>(
      "select type, data->>'by' as by from rowflow.events where run_id = $1 and type like 'task_%' order by id",
      [a],
    );
    expect(events).toEqual([
      { type: "task_created", by: null },
      { type: "task_reassigned", by: "ann" },
      { type: "task_claimed", by: "bob" },
      { type: "task_completed", by: "bob" },
    ]);
  });
});
