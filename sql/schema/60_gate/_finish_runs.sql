-- rowflow._finish_runs(run_ids, now) → (run_id, status) of every given run
--
-- Ends the given runs that have nothing left: no step row pending, queued
-- or running, and (unless compensating) a row for every workflow step. A
-- running run succeeds; a compensating one fails, its error extended with
-- the chain's results, with its run_failed event and its failure alert
-- (rowflow.alerts). The caller holds the run
-- locks. A run cancelled with compensation (rowflow.cancel_run, its error
-- {"cancelled": true, …}) ends 'cancelled' after its chain, with a
-- run_cancelled event. complete_steps finishes plain running runs itself (PHASE 4); this
-- handles the rest (skipped roots at claim, compensation, fail_step).
create or replace function rowflow._finish_runs(run_ids bigint[], now timestamptz)
returns table (run_id bigint, status text)
language plpgsql
set search_path to ''
set plan_cache_mode to force_generic_plan
set enable_seqscan to off
set enable_hashjoin to off
set enable_mergejoin to off
set jit to off
as $$
#variable_conflict use_column
begin
  return query
  with s as (
    select r.id, r.status, r.error, a.open, a.step_rows, wv.step_count, a.chain
    from rowflow.runs as r
    join rowflow.workflow_versions as wv on wv.workflow = r.workflow and wv.version = r.version
    cross join lateral (
      select count(*) filter (where sr.status in ('pending', 'queued', 'running')) as open,
             count(*) filter (where sr.kind = 'step') as step_rows,
             pg_catalog.jsonb_object_agg(sr.step, sr.status) filter (where sr.kind <> 'step') as chain
      from rowflow.step_runs as sr where sr.run_id = r.id
    ) as a
    where r.id = any (_finish_runs.run_ids) and r.status in ('running', 'compensating')
  ), f as (
    update rowflow.runs as r
    set status = case when s.status = 'running' then 'succeeded'
                      when r.error ->> 'cancelled' = 'true' then 'cancelled' else 'failed' end,
        error = case when s.status = 'compensating'
                     then r.error || pg_catalog.jsonb_build_object('compensation', coalesce(s.chain, '{}'::jsonb))
                     else r.error end,
        updated_at = _finish_runs.now, finished_at = _finish_runs.now
    from s
    where r.id = s.id and s.open = 0 and (s.status = 'compensating' or s.step_rows >= s.step_count)
    returning r.id, r.status, r.error, r.workflow, r.version
  ), ev as (
    insert into rowflow.events (run_id, type, data, at)
    select f.id, case f.status when 'failed' then 'run_failed' else 'run_cancelled' end, f.error, _finish_runs.now
    from f where f.status in ('failed', 'cancelled')
  ), al as (
    insert into rowflow.alerts (type, run_id, workflow, payload, next_attempt_at, created_at, retry_since)
    select 'run.failed', f.id, f.workflow, rowflow._alert_payload(f.id, f.workflow, f.version, f.error, _finish_runs.now),
           _finish_runs.now, _finish_runs.now, _finish_runs.now
    from f where f.status = 'failed'
  )
  select r.id, coalesce(f.status, r.status)
  from rowflow.runs as r left join f on f.id = r.id
  where r.id = any (_finish_runs.run_ids);
end;
$$;
comment on function rowflow._finish_runs(bigint[], timestamptz) is
  'Internal: ends the given runs that have nothing left (succeeded, or failed after compensation); returns each run''s status.';
select rowflow._allow('function rowflow._finish_runs(bigint[], timestamptz)', '{}');
