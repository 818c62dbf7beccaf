-- rowflow.visible_runs, rowflow.visible_run_steps: the runs (and their steps)
-- the current role may see. A viewer, an operator or the owner sees every
-- run; any other role — an app (rowflow_app) — the runs its session started
-- (runs.started_by): its own, not other apps' inputs. The client reads runs
-- through these (src/db/runs/get-run.ts), so one code path serves every role.
-- security_barrier: a condition of the caller's query cannot see rows the
-- view filters out.
create or replace view rowflow.visible_runs with (security_barrier) as
select r.*
from rowflow.runs as r
where r.started_by = session_user or (select rowflow._may('viewer'));
comment on view rowflow.visible_runs is
  'The runs the current role may see: all for viewers, operators and the owner, else those its session started.';
select rowflow._allow('view rowflow.visible_runs', '{app,operator,viewer}');

create or replace view rowflow.visible_run_steps with (security_barrier) as
select s.*
from rowflow.run_steps as s
where (select rowflow._may('viewer'))
   or exists (select 1 from rowflow.runs as r where r.id = s.run_id and r.started_by = session_user);
comment on view rowflow.visible_run_steps is
  'The step runs (rowflow.run_steps) of the runs rowflow.visible_runs shows.';
select rowflow._allow('view rowflow.visible_run_steps', '{app,operator,viewer}');
