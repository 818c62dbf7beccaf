-- rowflow.worker_status: rowflow.workers with what an operator asks first:
-- is it alive, how long has it been silent, what is it running. `alive`
-- compares with the default heartbeat timeout (30 s, the worker option
-- heartbeatTimeout); a worker started with another timeout is judged by
-- its own when the live workers release dead ones (release_dead_workers
-- deletes a row silent for longer than the releasing worker's timeout),
-- so a dead worker's row disappears within about one timeout and a
-- heartbeat interval. `running` counts the step attempts it holds
-- (step_runs.locked_by).
create or replace view rowflow.worker_status as
select w.id, w.hostname, w.pid, w.concurrency, w.tasks, w.started_at, w.heartbeat_at,
       pg_catalog.now() - w.heartbeat_at as silent_for,
       w.heartbeat_at > pg_catalog.now() - interval '30 seconds' as alive,
       (select count(*) from rowflow.step_runs as sr
        where sr.locked_by = w.id and sr.status = 'running')::int as running
from rowflow.workers as w;
comment on view rowflow.worker_status is
  'rowflow.workers with alive (heartbeat within the default 30 s timeout), silent_for and the number of step attempts each is running.';
select rowflow._allow('view rowflow.worker_status', '{viewer}');
