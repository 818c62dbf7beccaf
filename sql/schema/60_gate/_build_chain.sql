-- rowflow._build_chain(run, on_failure, now) → how many links it wrote
--
-- Writes a run's undo chain as pending step rows: a 'compensate:<step>'
-- link for each succeeded step whose spec has a compensate task, in reverse
-- completion order, then (with on_failure) 'on-failure' when the workflow
-- has one. A failed run gets both (rowflow._fail_attempt); a run cancelled
-- with compensation only the compensations (rowflow.cancel_run: an
-- on-failure handler is for failures). The caller holds the run lock, sets
-- the run 'compensating' when links were written, and queues the first
-- with rowflow._advance_chain_step.
create or replace function rowflow._build_chain(run rowflow.runs, on_failure boolean, now timestamptz)
returns int
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_chain int;
begin
  with comp as (
    select sr.step, ws.attempts, sr.finished_at
    from rowflow.step_runs as sr
    join rowflow.workflow_steps as ws
      on ws.workflow = _build_chain.run.workflow and ws.version = _build_chain.run.version and ws.name = sr.step
    where sr.run_id = _build_chain.run.id and sr.kind = 'step' and sr.status = 'succeeded'
      and ws.compensate is not null
  ), chain as (
    select 'compensate:' || c.step as step, 'compensation' as kind, c.attempts,
           row_number() over (order by c.finished_at desc, c.step desc) as seq
    from comp as c
    union all
    select 'on-failure', 'on_failure', 3, (select count(*) from comp) + 1
    from rowflow.workflow_versions as wv
    where _build_chain.on_failure and wv.workflow = _build_chain.run.workflow
      and wv.version = _build_chain.run.version and wv.on_failure is not null
  ), ins as (
    insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts, seq, created_at)
    select _build_chain.run.id, ch.step, ch.kind, 'pending', 1, 0, ch.attempts, ch.seq, _build_chain.now
    from chain as ch order by ch.seq
    returning 1
  )
  select count(*) into v_chain from ins;
  return v_chain;
end;
$$;
comment on function rowflow._build_chain(rowflow.runs, boolean, timestamptz) is
  'Internal: writes a run''s compensation chain (reverse completion order), and on-failure when asked; returns the number of links.';
select rowflow._allow('function rowflow._build_chain(rowflow.runs, boolean, timestamptz)', '{}');
