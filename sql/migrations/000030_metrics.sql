-- 000030_metrics.sql — rowflow.metrics_snapshot, the one query behind the Prometheus endpoints
--
-- The worker's and the dashboard's /metrics (src/metrics/) need run counts,
-- the ready backlog per task and queue (the autoscaler's signal) and the
-- workers' heartbeats. One SECURITY DEFINER function answers all of it in one
-- round trip (it reads graphile-worker's job tables, which viewers may not),
-- cached by the callers for 2 s: 60-80 ms on 200,000 runs with 2,000 due
-- jobs (the design comment of sql/schema/85_operate/metrics_snapshot.sql).


-- from sql/schema/85_operate/metrics_snapshot.sql
create or replace function rowflow.metrics_snapshot(heartbeat_timeout interval default '30 seconds',
  now timestamptz default null)
returns jsonb
language plpgsql
stable
security definer
set search_path to ''
as $$
declare
  v_now timestamptz := coalesce(metrics_snapshot.now, pg_catalog.statement_timestamp());
  v_timeout interval := coalesce(metrics_snapshot.heartbeat_timeout, interval '30 seconds');
begin
  -- GUARD: workers, operators and viewers only.
  perform rowflow._require('{worker,operator,viewer}');

  return (
    -- PHASE 1: every run, by workflow, version and status, in one scan of
    -- rowflow.runs; the queued ones' oldest start is the age of their root steps.
    with counts as materialized (
      select r.workflow, r.version, r.status, pg_catalog.count(*) as n,
             pg_catalog.min(r.created_at) filter (where r.status = 'queued') as oldest_queued
      from rowflow.runs as r
      group by r.workflow, r.version, r.status
    ), steps as (
      -- PHASE 2: ready steps. 1. due jobs, fetchable or fetched into a
      -- worker's local queue (locked) but not begun: their step run is still
      -- queued (checked below); a begun attempt's step run is running
      select (j.payload ->> 'run')::bigint as run_id, j.payload ->> 'step' as step,
             t.identifier = 'rowflow:wait' as arming, coalesce(q.queue_name, '') as queue, j.run_at as since
      from graphile_worker._private_jobs as j
      join graphile_worker._private_tasks as t on t.id = j.task_id
      left join graphile_worker._private_job_queues as q on q.id = j.job_queue_id
      where j.run_at <= v_now and j.attempts < j.max_attempts and t.identifier in ('rowflow:step', 'rowflow:wait')
      union all
      -- 2. steps reserved for a worker's local queue (step_runs_locked_by_idx)
      select sr.run_id, sr.step, false, '', coalesce(sr.queued_at, sr.created_at)
      from rowflow.step_runs as sr
      where sr.locked_by is not null and sr.status = 'queued' and sr.job_id is null
    ), ready as (
      -- the task of each: the step's, its compensation's, or the version's
      -- on-failure task (primary-key probes of step_runs, runs, workflow_steps)
      select case when s.arming then 'rowflow:wait'
                  when sr.kind = 'step' then ws.task
                  when sr.kind = 'compensation' then wc.compensate
                  else wv.on_failure end as task,
             s.queue, 1::bigint as n, s.since
      from steps as s
      join rowflow.step_runs as sr on sr.run_id = s.run_id and sr.step = s.step and sr.status = 'queued'
      left join rowflow.runs as r on r.id = s.run_id
      left join rowflow.workflow_steps as ws
        on sr.kind = 'step' and ws.workflow = r.workflow and ws.version = r.version and ws.name = s.step
      left join rowflow.workflow_steps as wc
        on sr.kind = 'compensation' and wc.workflow = r.workflow and wc.version = r.version
           and wc.name = pg_catalog.substr(s.step, pg_catalog.length('compensate:') + 1)
      left join rowflow.workflow_versions as wv
        on sr.kind = 'on_failure' and wv.workflow = r.workflow and wv.version = r.version
      union all
      -- 3. root steps of queued runs of workflows not paused (from PHASE 1's counts)
      select case when ws.wait is not null then 'rowflow:wait' else ws.task end,
             coalesce(ws.queue_name, ''), c.n, c.oldest_queued
      from counts as c
      join rowflow.workflows as w on w.name = c.workflow and not w.paused
      join rowflow.workflow_steps as ws
        on ws.workflow = c.workflow and ws.version = c.version and ws.n_deps = 0 and ws.delay is null
      where c.status = 'queued'
    )
    select pg_catalog.jsonb_build_object(
      'now', v_now,
      'runs', (
        select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(g.workflow, g.status, g.n)
                                             order by g.workflow, g.status), '[]')
        from (select c.workflow, c.status, pg_catalog.sum(c.n)::bigint as n
              from counts as c group by c.workflow, c.status) as g),
      'ready', (
        select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(g.task, g.queue, g.n, g.oldest)
                                             order by g.task, g.queue), '[]')
        from (select coalesce(ready.task, '') as task, ready.queue, pg_catalog.sum(ready.n)::bigint as n,
                     greatest(0, extract(epoch from v_now - pg_catalog.min(ready.since)))::double precision as oldest
              from ready group by coalesce(ready.task, ''), ready.queue) as g),
      -- PHASE 3: workers and their heartbeats.
      'workers', (
        select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(
                 w.id, greatest(0, extract(epoch from v_now - w.heartbeat_at))::double precision,
                 w.heartbeat_at > v_now - v_timeout) order by w.id), '[]')
        from rowflow.workers as w)));
end;
$$;
comment on function rowflow.metrics_snapshot(interval, timestamptz) is
  'Every database-derived metric in one jsonb: runs by workflow and status, ready steps by task and queue with the age of the oldest, workers with their heartbeat age and liveness. Changes nothing.';
select rowflow._allow('function rowflow.metrics_snapshot(interval, timestamp with time zone)', '{worker,operator,viewer}');
