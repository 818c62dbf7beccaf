-- rowflow.step_runs: one row per step of a claimed run, plus the links of its
-- compensation / on-failure chain (kind 'compensation' / 'on_failure',
-- ordered by seq), plus the elements of its map steps (kind 'element', one
-- row per element, named '<step>[<index>]', seq = the index, input = the
-- element: sql/schema/62_map/).
-- claim_runs writes every step's row when it claims the run (pending until
-- its dependencies are done: deps_remaining counts them down, so releasing a
-- dependent is O(dependents), not O(steps)). A row is written under its
-- run's row lock (lock order: the runs row, then step rows), which makes a
-- fan-in release happen exactly once (invariant 3, docs/architecture.md).
--
-- A step runs either as a graphile-worker job (job_id, one job per attempt)
-- or under a worker's lease (locked_by: the worker took it straight from a
-- gate call, no job). Runs started before the claim design have lazy rows: a
-- step without a row is pending (rowflow.run_steps shows it).
--
-- The state rules are one CHECK calling rowflow._check_step_run. Postgres
-- re-reads and plans a table's CHECK expressions from their stored text on
-- every statement that writes it: measured, a single-row UPDATE of step_runs
-- took 46 µs with the seven rules as CHECKs, 9 µs with none, 18 µs with this
-- function; the gates write step_runs a few times per step. A violated rule
-- raises SQLSTATE 23514 with the rule's name as the error's constraint, and
-- says what is wrong.
create or replace function rowflow._check_step_run(kind text, status text, deps_remaining smallint, attempt smallint,
  max_attempts smallint, seq smallint, started_at timestamptz, finished_at timestamptz, locked_by text)
returns boolean
language plpgsql immutable
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_rule text;
begin
  v_rule := case
    when _check_step_run.kind is null or _check_step_run.kind not in ('step', 'compensation', 'on_failure', 'element')
      then 'kind_is_valid'
    when _check_step_run.status is null or _check_step_run.status not in
         ('pending', 'queued', 'running', 'succeeded', 'failed', 'skipped', 'cancelled')
      then 'status_is_valid'
    when (_check_step_run.status in ('succeeded', 'failed', 'skipped', 'cancelled'))
         <> (_check_step_run.finished_at is not null)
      then 'finished_at_matches_status'
    when _check_step_run.status in ('running', 'succeeded', 'failed') and _check_step_run.started_at is null
      then 'started_at_matches_status'
    when not (_check_step_run.attempt between 0 and _check_step_run.max_attempts)
      or (_check_step_run.status in ('queued', 'running') and _check_step_run.attempt < 1)
      then 'attempt_is_valid'
    when _check_step_run.deps_remaining < 0
      or (_check_step_run.status not in ('pending', 'cancelled') and _check_step_run.deps_remaining <> 0)
      then 'deps_done_unless_pending'
    when (_check_step_run.kind = 'step') <> (_check_step_run.seq is null)
      then 'seq_matches_kind'
    when _check_step_run.locked_by is not null and _check_step_run.status not in ('queued', 'running')
      then 'locked_only_when_queued_or_running'
  end;
  if v_rule is not null then
    raise exception 'rowflow.step_runs: rule % violated (kind %, status %)', v_rule,
      coalesce(_check_step_run.kind, 'null'), coalesce(_check_step_run.status, 'null')
      using errcode = '23514', schema = 'rowflow', table = 'step_runs', constraint = v_rule;
  end if;
  return true;
end;
$$;
comment on function rowflow._check_step_run(text, text, smallint, smallint, smallint, smallint, timestamptz, timestamptz, text) is
  'The state rules of rowflow.step_runs (its CHECK step_run_is_valid); raises 23514 naming the rule.';
select rowflow._allow('function rowflow._check_step_run(text, text, smallint, smallint, smallint, smallint, timestamptz, timestamptz, text)', '{}');

create table rowflow.step_runs (
  run_id         bigint not null,
  step           text not null,               -- step name, or 'compensate:<step>' / 'on-failure'
  kind           text not null default 'step',
  status         text not null,
  deps_remaining smallint not null default 0,
  attempt        smallint not null default 0, -- attempt of the current/last job; 0 before the first
  max_attempts   smallint not null,
  seq            smallint,                    -- order in the compensation chain; an element's index (kind <> 'step')
  output         jsonb,
  error          jsonb,
  created_at     timestamptz not null,
  started_at     timestamptz,
  finished_at    timestamptz,
  job_id         bigint,                      -- graphile-worker job of the current attempt, if it has one
  queued_at      timestamptz,
  locked_by      text,
  lost_attempts  smallint not null default 0, -- attempts lost with their worker or connection (worker_lost)
  input          jsonb,                       -- kind 'element': the element, the handler's ctx.input; else null
  primary key (run_id, step),
  constraint step_run_is_valid
    check (rowflow._check_step_run(kind, status, deps_remaining, attempt, max_attempts, seq, started_at, finished_at,
                                   locked_by))
);
comment on column rowflow.step_runs.queued_at is
  'When the step run was first queued (ready to run); null while pending and for a step skipped or cancelled before.';
comment on column rowflow.step_runs.lost_attempts is
  'Attempts of this step lost with their worker or its connection (error kind worker_lost). Each one also raised max_attempts by one, so lost attempts do not use up the step''s attempts; the third one fails the step as poison (RF_POISON).';
comment on column rowflow.step_runs.input is
  'A map element''s input (kind element): its element of the map step''s array; null for every other kind (their input is the run''s).';
comment on column rowflow.step_runs.locked_by is
  'The worker (graphile pool id) a queued or running step was handed to directly, without a job (a lease); null otherwise.';

-- A dead worker's leases are found by worker id. Small: only leased rows.
create index step_runs_locked_by_idx on rowflow.step_runs (locked_by) where locked_by is not null;
select rowflow._allow('table rowflow.step_runs', '{viewer}');
