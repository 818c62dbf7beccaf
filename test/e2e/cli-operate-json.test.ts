// The operator commands' contract for scripts (docs/cli.md, "Operator
// commands" and "Exit codes"), per command: --json prints exactly the SQL
// function's documented answer, a refused input exits 1 with one stderr line
// naming the problem and its RF code and changes nothing, a usage mistake
// exits 2. cli-operate.test.ts has the human-readable lines and the cases it
// already covers (retry of an unknown run, pause of an unknown workflow,
// purge of a negative interval, retry of "abc", purge without --older-than).
// Each command is a child process (~1 s, mostly module loading), so
// the refusals run a few at a time.
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../helpers/db.js";
import { type CliResult, runCli } from "../helpers/run-cli.js";
import { begin, define, fail, queueRun, runStep, startRun } from "../sql/support.js";

const db = useTestDatabase();

const cli = (...args: string[]) => runCli([...args, "--database-url", db.url]);
const json = (result: CliResult): unknown => {
  expect(result, result.stderr).toMatchObject({ code: 0, stderr: "" });
  return JSON.parse(result.stdout);
};

/** Runs each case's command, at most `width` child processes at once. */
async function runAll(cases: { args: string[] }[], width = 4): Promise<CliResult[]> {
  const results: CliResult[] = new Array<CliResult>(cases.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < cases.length) {
        const i = next++;
        results[i] = await cli(...cases[i]!.args);
      }
    }),
  );
  return results;
}

/** Everything an operator command could change, to show a refusal changed nothing. */
async function snapshot(): Promise<unknown[]> {
  const { rows } = await db.query<{ s: unknown }>(
    `select jsonb_build_object(
       'runs', (select jsonb_agg(r order by r.id) from rowflow.runs as r),
       'steps', (select jsonb_agg(s order by s.run_id, s.step) from rowflow.step_runs as s),
       'events', (select count(*) from rowflow.events),
       'workflows', (select jsonb_agg(w order by w.name) from rowflow.workflows as w),
       'audit', (select count(*) from rowflow.audit),
       'jobs', (select count(*) from graphile_worker.jobs)) as s`,
  );
  return rows.map((r) => r.s);
}

describe("rowflow operator commands: --json and exit codes", () => {
  it("retry, skip, rerun, pause, resume, retention, explain, purge --json print the documented answers", async () => {
    await define(db.pool, "ops", {
      steps: [
        { name: "reserve", task: "t" },
        { name: "charge", task: "t", dependsOn: ["reserve"], attempts: 1 },
        { name: "ship", task: "t", dependsOn: ["charge"] },
      ],
    });
    await define(db.pool, "mail", { steps: [{ name: "send", task: "t" }] });
    const failed = await startRun(db.pool, "ops");
    await runStep(db.pool, failed, "reserve", { reserved: true });
    await begin(db.pool, failed, "charge", 1);
    await fail(db.pool, failed, "charge", 1, { retryable: false });
    const succeeded = await startRun(db.pool, "ops");
    for (const step of ["reserve", "charge", "ship"]) await runStep(db.pool, succeeded, step, {});
    const running = await startRun(db.pool, "ops");
    await begin(db.pool, running, "reserve", 1);
    // Last: startRun claims every queued run.
    const queued = await queueRun(db.pool, "ops");
    await queueRun(db.pool, "mail");

    expect(json(await cli("retry", String(failed), "--json"))).toEqual({
      run: failed,
      retried: true,
      mode: "failed",
      from: "failed",
      status: "running",
      steps: ["charge", "ship"],
      queued: ["charge"],
      chain: {},
    });
    expect(json(await cli("retry", String(failed), "--json"))).toEqual({
      run: failed,
      retried: false,
      status: "running",
    });

    expect(json(await cli("skip", String(failed), "charge", "--json"))).toEqual({
      run: failed,
      step: "charge",
      skipped: true,
      status: "skipped",
      from: "queued",
      released: ["ship"],
      runStatus: "running",
    });

    const rerun = json(await cli("rerun", String(succeeded), "--from", "charge", "--json"));
    expect(rerun).toEqual({
      run: expect.any(Number),
      rerunOf: succeeded,
      step: "charge",
      copied: ["reserve"],
      steps: ["charge", "ship"],
      queued: ["charge"],
      status: "running",
    });
    const newRun = (rerun as { run: number }).run;
    const { rows: made } = await db.query(
      "select rerun_of::int, status from rowflow.runs where id = $1",
      [newRun],
    );
    expect(made).toEqual([{ rerun_of: succeeded, status: "running" }]);

    expect(json(await cli("pause", "mail", "--json"))).toEqual({
      workflow: "mail",
      paused: true,
      changed: true,
      queuedRuns: 1,
    });
    expect(json(await cli("resume", "mail", "--json"))).toEqual({
      workflow: "mail",
      paused: false,
      changed: true,
      queuedRuns: 1,
    });
    expect(json(await cli("retention", "mail", "7d", "--json"))).toEqual({
      workflow: "mail",
      retention: "7 days",
      changed: true,
    });

    expect(json(await cli("explain", String(running), "--json"))).toEqual([
      {
        step: "charge",
        status: "pending",
        code: "waiting_on_dependencies",
        reason: "waiting on reserve",
        detail: expect.objectContaining({ waitingOn: ["reserve"] }),
      },
      {
        step: "reserve",
        status: "running",
        code: "running",
        reason: expect.stringMatching(/^attempt 1 of 3 running /),
        detail: expect.objectContaining({ attempt: 1, maxAttempts: 3 }),
      },
      {
        step: "ship",
        status: "pending",
        code: "waiting_on_dependencies",
        reason: "waiting on charge",
        detail: expect.objectContaining({ waitingOn: ["charge"] }),
      },
    ]);

    // Refusals, then usage mistakes: nothing changes.
    const before = await snapshot();
    const R = String(running);
    const refused = [
      {
        args: ["retry", String(succeeded)],
        line: `run ${succeeded} succeeded: nothing to retry [RF040]`,
      },
      {
        args: ["retry", String(failed), "--mode", "bogus"],
        line: "retry_run: mode must be 'failed' or 'failed_and_downstream', got 'bogus' [RF043]",
      },
      {
        args: ["skip", R, "reserve"],
        line: `step reserve of run ${R} is running: only a pending or queued step can be skipped [RF042]`,
      },
      {
        args: ["skip", R, "nope"],
        line: `run ${R} (workflow ops, version 1) has no step 'nope' [RF041]`,
      },
      {
        args: ["skip", R, "charge", "--output", "[1]"],
        line: "skip_step: output must be a JSON object or null, got array [RF043]",
      },
      {
        args: ["rerun", R, "--from", "nope"],
        line: `run ${R} (workflow ops, version 1) has no step 'nope' [RF041]`,
      },
      {
        args: ["rerun", String(queued), "--from", "reserve"],
        line: `run ${queued} has not started: nothing ran to rerun from [RF040]`,
      },
      { args: ["rerun", "999999", "--from", "ship"], line: "unknown run 999999 [RF023]" },
      { args: ["resume", "nope"], line: "unknown workflow nope [RF020]" },
      { args: ["explain", "999999"], line: "unknown run 999999 [RF023]" },
      { args: ["cancel", "999999"], line: "unknown run 999999 [RF023]" },
      {
        args: ["retention", "mail", "0s"],
        line: "set_retention: retention must be a positive interval or null (keep forever), got 00:00:00 [RF043]",
      },
      {
        args: ["purge", "--older-than", "1d", "--status", "succeeded,running"],
        line: "purge_runs: statuses must be some of succeeded, failed, cancelled, got {succeeded,running} [RF043]",
      },
      {
        args: ["purge", "--older-than", "1d", "--batch", "100001"],
        line: "purge_runs: batch must be between 1 and 100000, got 100001 [RF043]",
      },
    ];
    // Ours print one line; commander's print the error, then the command's help.
    const usage = [
      { args: ["skip", R, "charge", "--output", "{x"], first: "rowflow: --output is not JSON: {x" },
      { args: ["rerun", R], first: "error: required option '--from <step>' not specified" },
      { args: ["pause"], first: "error: missing required argument 'workflow'" },
      { args: ["resume"], first: "error: missing required argument 'workflow'" },
      { args: ["explain", "abc"], first: "rowflow: not a run id: abc" },
      { args: ["cancel", "x"], first: "rowflow: not a run id: x" },
      { args: ["retention", "mail"], first: "error: missing required argument 'interval'" },
      {
        args: ["purge", "--older-than", "1d", "--batch", "0"],
        first: "error: option '--batch <n>' argument '0' is invalid. expected a positive integer.",
      },
    ];
    const results = await runAll([...refused, ...usage]);
    expect(results.slice(0, refused.length)).toEqual(
      refused.map((c) => ({ code: 1, stdout: "", stderr: `rowflow: ${c.line}\n` })),
    );
    const usageResults = results.slice(refused.length);
    expect(usageResults.map((r) => ({ code: r.code, first: r.stderr.split("\n")[0] }))).toEqual(
      usage.map((c) => ({ code: 2, first: c.first })),
    );
    for (const [i, r] of usageResults.entries()) {
      expect(r.stdout, usage[i]!.args.join(" ")).toBe("");
      if (usage[i]!.first.startsWith("rowflow: ")) expect(r.stderr).toBe(`${usage[i]!.first}\n`);
    }
    expect(await snapshot()).toEqual(before);

    // purge --json: only the run that finished more than a day ago goes.
    await db.query(
      "update rowflow.runs set finished_at = finished_at - interval '2 days' where id = $1",
      [succeeded],
    );
    expect(json(await cli("purge", "--older-than", "1d", "--json"))).toEqual({ deleted: 1 });
    const { rows: left } = await db.query<{ id: number; status: string }>(
      "select id::int, status from rowflow.runs order by id",
    );
    expect(left.map((r) => r.id)).not.toContain(succeeded);
    expect(left).toHaveLength(5);
  }, 180_000);
});
