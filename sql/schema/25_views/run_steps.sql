-- rowflow.run_steps: every step run of every run. Read step lists from here,
-- not from rowflow.step_runs: a run claimed before the claim design (or a
-- queued run) has steps without a row, shown here as 'pending' with
-- deps_remaining = n_deps and the run's created_at. The links of a
-- compensation / on-failure chain come from the second branch. A map
-- step's elements (rowflow.step_runs of kind 'element', up to 10,000) are
-- not listed: the map step's row counts them in `elements` ({"total",
-- "open", "failed"}, from rowflow.step_maps; null for other steps).
-- child_run_id: a child step's latest child run (rowflow.runs.parent_run_id,
-- by runs_parent_idx; latest by created_at: ids come from per-session
-- sequence caches, so a later child can have a smaller id). Filter by run_id: both branches use primary keys.
create or replace view rowflow.run_steps as
select
  r.id as run_id,
  ws.name as step,
  coalesce(sr.kind, 'step') as kind,
  coalesce(sr.status, 'pending') as status,
  coalesce(sr.deps_remaining, ws.n_deps) as deps_remaining,
  coalesce(sr.attempt, 0::smallint) as attempt,
  coalesce(sr.max_attempts, ws.attempts) as max_attempts,
  sr.seq,
  sr.output,
  sr.error,
  coalesce(sr.created_at, r.created_at) as created_at,
  sr.started_at,
  sr.finished_at,
  sr.job_id,
  sr.queued_at,
  sr.locked_by,
  case when ws.wait ->> 'kind' = 'child' then
    (select c.id from rowflow.runs as c where c.parent_run_id = r.id and c.parent_step = ws.name
     order by c.created_at desc, c.id desc limit 1)
  end as child_run_id,
  case when m.run_id is not null then
    pg_catalog.jsonb_build_object('total', m.total, 'open', m.open, 'failed', m.failed) end as elements
from rowflow.runs as r
join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version
left join rowflow.step_runs as sr on sr.run_id = r.id and sr.step = ws.name
left join rowflow.step_maps as m on m.run_id = r.id and m.step = ws.name
union all
select sr.run_id, sr.step, sr.kind, sr.status, sr.deps_remaining, sr.attempt, sr.max_attempts, sr.seq,
       sr.output, sr.error, sr.created_at, sr.started_at, sr.finished_at, sr.job_id, sr.queued_at, sr.locked_by,
       null::bigint, null::jsonb
from rowflow.step_runs as sr
where sr.kind in ('compensation', 'on_failure');
comment on view rowflow.run_steps is
  'Every step run of every run; a step without a row in rowflow.step_runs (not ready yet: runs claimed before every step got its row) shows as pending.';
select rowflow._allow('view rowflow.run_steps', '{viewer}');
