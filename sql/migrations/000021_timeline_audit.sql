-- 000021_timeline_audit.sql — rowflow.run_timeline shows the operators' actions
-- on a run (issue #15: "every operation … writes an event with the acting
-- role …; rowflow.run_timeline shows them"): the rowflow.audit rows with a
-- run_id, typed by their action, with who and why in data, ord -1 (before
-- the events the action caused in its transaction) and a new last column,
-- audit_id (null for every other row). rowflow tail does not show them: its
-- cursor dedupes by stored event id (src/client/tail/transition-cursor.ts).

-- from sql/schema/25_views/run_timeline.sql
create or replace view rowflow.run_timeline as
select e.run_id, e.at, e.step, e.type, e.attempt, e.data, e.id,
  case e.type
    when 'run_started' then 0
    when 'step_succeeded' then 1 when 'step_failed' then 1 when 'step_retrying' then 1
    when 'step_skipped' then 2 when 'step_cancelled' then 2
    when 'step_queued' then 3 when 'step_started' then 4
    else 5 end as ord,
  null::bigint as audit_id
from rowflow.events as e
union all
-- The implied events, for runs that store only what the rows cannot tell (a
-- run from before has a stored run_started event and stored ordinary-path events).
-- run_started: claimed by a worker.
select r.id, r.started_at, null, 'run_started', null, null, null, 0, null
from rowflow.runs as r where r.started_at is not null and not exists (select 1 from rowflow.events as se where se.run_id = r.id and se.type = 'run_started')
union all
-- run_succeeded (failed and cancelled runs have their stored event).
select r.id, r.finished_at, null, 'run_succeeded', null, null, null, 5, null
from rowflow.runs as r where r.status = 'succeeded' and not exists (select 1 from rowflow.events as se where se.run_id = r.id and se.type = 'run_started')
union all
-- step_queued: the first attempt (queued_at), and every retry (the
-- step_retrying event queues the next attempt).
select sr.run_id, sr.queued_at, sr.step, 'step_queued', 1, null, null, 3, null
from rowflow.step_runs as sr where sr.queued_at is not null and not exists (select 1 from rowflow.events as se where se.run_id = sr.run_id and se.type = 'run_started')
union all
select e.run_id, e.at, e.step, 'step_queued', (e.data ->> 'nextAttempt')::int, null, null, 3, null
from rowflow.events as e where e.type = 'step_retrying' and not exists (select 1 from rowflow.events as se where se.run_id = e.run_id and se.type = 'run_started')
union all
-- step_started: the current attempt (started_at), and failed attempts
-- (their step_retrying / step_failed event records when they started).
select sr.run_id, sr.started_at, sr.step, 'step_started', sr.attempt, null, null, 4, null
from rowflow.step_runs as sr
where sr.started_at is not null and sr.status in ('running', 'succeeded', 'cancelled')
  and not exists (select 1 from rowflow.events as se where se.run_id = sr.run_id and se.type = 'run_started')
union all
select e.run_id, (e.data ->> 'startedAt')::timestamptz, e.step, 'step_started', e.attempt, null, null, 4, null
from rowflow.events as e
where e.type in ('step_retrying', 'step_failed') and e.data ->> 'startedAt' is not null
union all
-- step_succeeded.
select sr.run_id, sr.finished_at, sr.step, 'step_succeeded', sr.attempt, null, null, 1, null
from rowflow.step_runs as sr where sr.status = 'succeeded' and not exists (select 1 from rowflow.events as se where se.run_id = sr.run_id and se.type = 'run_started')
union all
-- Operators' actions (rowflow.audit).
select a.run_id, a.at, a.step, a.action, null,
  pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
    'reason', a.reason, 'sessionUser', a.session_user_name, 'setRole', a.set_role,
    'applicationName', a.application_name, 'clientAddr', pg_catalog.host(a.client_addr)))
    || coalesce(a.data, '{}'::jsonb),
  null, -1, a.id
from rowflow.audit as a where a.run_id is not null;
comment on view rowflow.run_timeline is
  'Every event of a run: stored (rowflow.events), implied by the rows (run_started, step_queued, step_started, step_succeeded, run_succeeded), and the operators'' actions on it (rowflow.audit; audit_id set). Filter by run_id; order by at, ord, step.';
select rowflow._allow('view rowflow.run_timeline', '{viewer}');
