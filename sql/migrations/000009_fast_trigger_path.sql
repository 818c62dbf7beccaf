-- 000009_fast_trigger_path.sql — a fast path for one-row statements on an
-- attached table (issue 6 targets: attached/bare single-row INSERT ≥ 0.6x at
-- 1 client, ≥ 0.5x at 16).
--
-- Why: after 000006 the attached INSERT was CPU-bound, not WAL-bound. Per
-- one-row INSERT (pg_stat_user_functions self time, track_functions = all,
-- synchronous_commit off, 1 client, 3,000 INSERTs): start_runs 434 µs,
-- generated trigger function 53 µs, _start_attached 30 µs, _wake 2 x 19 µs,
-- _attach_mode 5 µs — ~0.56 ms of trigger chain against ~0.09 ms for a
-- bare INSERT. Inside start_runs the rows themselves are cheap (auto_explain:
-- its one writing statement executes in ~0.09 ms); the time goes to running
-- ~15 statements of a general batch path for one row: executor start-up of
-- a 4-CTE statement with sorts, aggregates, init plans and five ModifyTable
-- nodes, ordered array_agg()s over the workflow's steps, the input checks
-- over unnest(), pg_get_serial_sequence(), the skip-propagation loop
-- query, the id-returning query, and the set-returning call itself
-- (array(select start_runs(…))). perf on the backend: ExecutorStart /
-- ExecInitNode ~20% of backend CPU, ExecConstraints ~13%.
--
-- What: rowflow._start_attached (000004, the one call every generated trigger
-- function makes per statement) gets a fast path for a statement with one
-- row, whose workflow's one root step has no "if" and no "queue", and whose
-- input is a JSON object of at most 1 MiB / 6 binary: one lookup of the
-- workflow and its root step (plain aggregates, no sorts), then four
-- single-row INSERTs — run (ON CONFLICT DO NOTHING only with a key, as
-- start_runs), root job (its id from graphile's identity sequence, as
-- start_runs' nextval), root step run, run_started event — the same two
-- _wake calls, and the pending_runs bookkeeping. Every other statement, and
-- every error case (unknown or paused workflow, a bad input, a missing
-- graphile task row), goes through start_runs exactly as before, so errors
-- are start_runs' own. The mode lookup is inlined (a value outside
-- normal/suppress/backfill still calls _attach_mode, which raises RF039).
-- start_runs is unchanged (so is the 000005 drift test); the fast path
-- writes the rows start_runs would write for the same input, which
-- test/sql/attach/fast-path.test.ts checks column by column (normal,
-- backfill, keyed, repeated key) and keeps in sync: a later change to what
-- start_runs writes at start must change this function too.
--
-- Measured with scripts/bench/probe-start-path.ts (--migration 000009; the
-- Postgres 15 server at DATABASE_URL, synchronous_commit on, 2 cores shared
-- with other load — load average ~4 before the probe started, so single
-- figures swing 2x; two probe runs of 3 interleaved repetitions of 8 s,
-- medians of the 6; before = migrations 1-8):
--   pgbench single-row INSERT, tps and attached/bare:
--     1 client   bare 1931; attached 583 -> 1122   (0.30 -> 0.58)
--     16 clients bare 6339; attached 1167 -> 1447  (0.18 -> 0.23)
--   per repetition, attached after/before: 1 client 1.4x-3.3x (median 1.7x),
--     16 clients 1.1x-1.9x (median 1.2x).
--   WAL per attached INSERT unchanged (1,500 bytes; bare 205).
--   bulk start_runs of 100k runs (start_runs is unchanged): before 26.5k,
--     after 26.0k runs/s median; 35-40k in the quieter repetitions for both.
-- Per attached INSERT after (self time, sync off, 1 client): _start_attached
-- ~220 µs (the four INSERTs ~150 µs of it, of which ~60 µs is
-- ExecConstraints re-reading and planning the 15 CHECK constraints of runs,
-- step_runs, events and graphile's jobs from their stored text on every
-- statement; the lookup ~17 µs), generated trigger function ~40 µs, _wake
-- 2 x 13 µs, and ~100 µs outside the functions (transition table, after-
-- trigger queue, commit). The 1-client target (0.6x) is nearly met; the
-- 16-client one (0.5x) is not reachable on this design: at 16 clients both
-- cores are saturated (vmstat ~90% busy; a bare table padded to the same
-- 1,500 bytes of WAL per row keeps ~0.9x of bare), so the ratio is the CPU
-- ratio, and an AFTER STATEMENT trigger with a transition table, the input
-- query and a call to an empty plpgsql function alone already costs about
-- the CPU of the bare INSERT (~0.1 ms) before any row is written. The next
-- step with a measurable effect (~25-40 µs per run in a micro-benchmark) is
-- rewriting the CHECK constraints of runs/step_runs/events with array
-- literals (status = any ('{…}'::text[]) instead of IN (…), same names and
-- meaning), which Postgres re-reads and const-folds per statement; it needs
-- ALTER TABLE on the three hottest tables, so it is not done here.

create or replace function rowflow._start_attached(attachment_id int, workflow text, inputs jsonb[], keys text[])
returns void
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_mode text := pg_catalog.current_setting('rowflow.mode', true);
  v_prio int;
  v_n int := coalesce(cardinality(_start_attached.inputs), 0);
  v_now timestamptz;
  v_wf record;
  v_id bigint;
  v_job bigint;
  v_new bigint;
  v_key text;
  v_ids bigint[];
  v_ranges text;
begin
  -- GUARD: the mode (000004's _attach_mode inline: unset/''/normal → run
  -- priority 0, backfill → 1000, suppress → nothing; anything else calls
  -- _attach_mode, which raises RF039), then nothing to do.
  if v_mode is null or v_mode = '' or v_mode = 'normal' then
    v_prio := 0;
  elsif v_mode = 'backfill' then
    v_prio := 1000;
  elsif v_mode = 'suppress' then
    return;
  else
    perform rowflow._attach_mode();
  end if;
  if v_n = 0 then
    return;
  end if;

  -- FAST PATH (000009): a one-row statement of a workflow whose one root
  -- step has no condition and no queue writes start_runs' rows with four
  -- single-row INSERTs. Anything else — several rows, several roots, a root
  -- with "if" or "queue", an input that is not a small JSON object, an
  -- unknown or paused workflow (start_runs raises RF020/RF021/RF022), a
  -- missing graphile task row — takes PHASE 1 below. test/sql/attach/
  -- fast-path.test.ts compares the rows of both paths.
  if v_n = 1 and coalesce(cardinality(_start_attached.keys), 1) = 1
     and pg_catalog.jsonb_typeof(_start_attached.inputs[1]) = 'object'
     and pg_catalog.pg_column_size(_start_attached.inputs[1]) <= 174762 then
    -- The workflow, its step count and its root step; min() over the one
    -- root row avoids the sorts of ordered aggregates.
    select w.name, w.latest_version as version, s.n, s.roots, s.root, s.attempts, s.delay, s.priority,
           s.plain, (select t.id from graphile_worker._private_tasks as t where t.identifier = 'rowflow:step') as task
    into v_wf
    from rowflow.workflows as w
    cross join lateral (
      select count(*)::int as n,
        count(*) filter (where ws.n_deps = 0) as roots,
        min(ws.name) filter (where ws.n_deps = 0) as root,
        min(ws.attempts) filter (where ws.n_deps = 0) as attempts,
        min(ws.delay) filter (where ws.n_deps = 0) as delay,
        min(ws.priority) filter (where ws.n_deps = 0) as priority,
        bool_and(ws.if_path is null and ws.queue_name is null) filter (where ws.n_deps = 0) as plain
      from rowflow.workflow_steps as ws
      where ws.workflow = w.name and ws.version = w.latest_version
    ) as s
    where w.name = _start_attached.workflow and not w.paused;
    if found and v_wf.roots = 1 and v_wf.plain and v_wf.task is not null then
      v_key := _start_attached.keys[1];
      v_now := pg_catalog.now();
      v_id := pg_catalog.nextval('rowflow.runs_id_seq'::regclass);
      if v_key is null then
        insert into rowflow.runs as r (id, workflow, version, status, input, idempotency_key, priority,
                                       steps_left, created_at, updated_at)
        values (v_id, v_wf.name, v_wf.version, 'running', _start_attached.inputs[1], null, v_prio,
                v_wf.n, v_now, v_now);
      else
        -- As start_runs: a key that already has a run (committed, or
        -- committed by the transaction we waited for) starts nothing, and
        -- that run is the statement's run.
        insert into rowflow.runs as r (id, workflow, version, status, input, idempotency_key, priority,
                                       steps_left, created_at, updated_at)
        values (v_id, v_wf.name, v_wf.version, 'running', _start_attached.inputs[1], v_key, v_prio,
                v_wf.n, v_now, v_now)
        on conflict (workflow, idempotency_key) where idempotency_key is not null do nothing
        returning r.id into v_new;
        if v_new is null then
          select r.id into v_id from rowflow.runs as r
          where r.workflow = v_wf.name and r.idempotency_key = v_key;
          v_ranges := pg_catalog.set_config('rowflow.pending_runs',
            coalesce(nullif(pg_catalog.current_setting('rowflow.pending_runs', true), '') || ',', '')
              || v_id || '-' || v_id,
            true);
          return;
        end if;
      end if;
      -- The root job (id from graphile's identity sequence, as start_runs'
      -- nextval), its step run, and the run_started event (step_queued is
      -- implied, 000006).
      insert into graphile_worker._private_jobs as jobs
        (job_queue_id, task_id, payload, run_at, max_attempts, priority)
      values (null, v_wf.task, pg_catalog.json_build_object('run', v_id, 'step', v_wf.root, 'attempt', 1),
              v_now + coalesce(v_wf.delay, interval '0'), 25,
              greatest(-32768, least(32767, v_wf.priority + v_prio)))
      returning jobs.id into v_job;
      insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts,
                                     created_at, finished_at, job_id)
      values (v_id, v_wf.root, 'step', 'queued', 0, 1, v_wf.attempts, v_now, null, v_job);
      insert into rowflow.events (run_id, step, type, attempt, at)
      values (v_id, null, 'run_started', null, v_now);
      -- Wake-ups as start_runs sends them for one new run with one job.
      perform rowflow._wake('jobs:insert', '{"count":1}');
      perform rowflow._wake('rowflow', pg_catalog.jsonb_build_object('run', v_id)::text);
      v_ranges := pg_catalog.set_config('rowflow.pending_runs',
        coalesce(nullif(pg_catalog.current_setting('rowflow.pending_runs', true), '') || ',', '')
          || v_id || '-' || v_id,
        true);
      return;
    end if;
  end if;

  -- PHASE 1: one start_runs call for the whole statement.
  v_ids := array(select rowflow.start_runs(
    workflow => _start_attached.workflow,
    inputs => _start_attached.inputs,
    idempotency_keys => _start_attached.keys,
    priority => v_prio));

  -- PHASE 2: remember the ids for pending_runs() as ranges "lo-hi" of
  -- consecutive ids (as 000004; transaction-local, rolled back with a
  -- savepoint).
  if cardinality(v_ids) = 1 then
    v_ranges := v_ids[1] || '-' || v_ids[1];
  else
    select pg_catalog.string_agg(g.lo || '-' || g.hi, ',' order by g.lo) into v_ranges
    from (select min(t.id) as lo, max(t.id) as hi
          from (select x.id, x.id - row_number() over (order by x.id) as grp
                from unnest(v_ids) as x(id)) as t
          group by t.grp) as g;
  end if;
  perform pg_catalog.set_config('rowflow.pending_runs',
    coalesce(nullif(pg_catalog.current_setting('rowflow.pending_runs', true), '') || ',', '') || v_ranges,
    true);
end;
$$;
comment on function rowflow._start_attached(int, text, jsonb[], text[]) is
  'Internal: the one call a generated attachment trigger makes per statement (mode, start_runs or its one-row fast path (000009), pending_runs bookkeeping).';
