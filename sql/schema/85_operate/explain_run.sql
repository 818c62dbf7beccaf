-- rowflow.explain_run(run_id, now, worker_timeout) → one row per unfinished step: why it is not running
--
-- The "why is this waiting" inspector, as a function. Each row has the
-- step (null for the run itself), its status, a code and a sentence:
--   run_paused             queued run of a paused workflow (resume_workflow)
--   run_unclaimed          queued run waiting for a worker to claim it
--   run_finished           the run ended (one row, with its status)
--   waiting_on_dependencies  pending: names the unfinished dependencies
--   delayed                queued with a start time in the future (a delay,
--                          a startAt)
--   waiting_for_signal, waiting_for_human, waiting_for_row, waiting_for_child
--                          a wait step waiting (rowflow.step_waits): the
--                          signal, the task and its assignee, the table,
--                          the child run (detail.childRunId) and its
--                          status; its deadline
--   backing_off            queued for its next attempt after a failure: the
--                          attempt, the last error and when it will start
--   queued_behind          in a named queue behind other jobs: how many,
--                          and the run and step that holds the queue
--   handed_to_worker       queued under a worker's lease, about to start
--   no_worker_for_task     due, but no live worker has registered its task
--   ready                  due, waiting for a free slot of a live worker
--   running                its attempt is running: where, since when
--   running_elements       a map step: its elements run (detail.elements:
--                          total, open, failed; each element is a
--                          rowflow.step_runs row of kind 'element')
--   waiting_on_chain       a pending link of the compensation / on-failure
--                          chain: the links before it run first
-- (chain links have detail.kind 'compensation' or 'on_failure').
-- A worker is live if its heartbeat is younger than worker_timeout (the
-- workers' default heartbeat timeout, 30 s). detail holds the figures as
-- JSON. Operators and viewers (it reads the tables, changes nothing).
create or replace function rowflow.explain_run(run_id bigint, now timestamptz default null,
  worker_timeout interval default '30 seconds')
returns table (step text, status text, code text, reason text, detail jsonb)
language plpgsql
stable
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(explain_run.now, pg_catalog.statement_timestamp());
  v_run rowflow.runs;
  v_paused boolean;
  v_live int;
begin
  perform rowflow._require('{operator,viewer}');
  select r.* into v_run from rowflow.runs as r where r.id = explain_run.run_id;
  if not found then
    raise exception 'unknown run %', explain_run.run_id using errcode = 'RF023';
  end if;
  select w.paused into v_paused from rowflow.workflows as w where w.name = v_run.workflow;
  select count(*)::int into v_live from rowflow.workers as wk
  where wk.heartbeat_at > v_now - explain_run.worker_timeout;

  if v_run.status in ('succeeded', 'failed', 'cancelled') then
    return query select null::text, v_run.status, 'run_finished',
      'the run ended: ' || v_run.status || ' at ' || v_run.finished_at::text,
      pg_catalog.jsonb_build_object('finishedAt', v_run.finished_at, 'error', v_run.error);
    return;
  end if;
  if v_run.status = 'queued' then
    return query select null::text, 'queued'::text,
      case when v_paused then 'run_paused' else 'run_unclaimed' end,
      case when v_paused then 'workflow ' || v_run.workflow || ' is paused: its runs wait until resume_workflow'
           when v_live = 0 then 'no live worker: the run waits to be claimed by one'
           else 'waiting to be claimed by one of ' || v_live || ' live worker(s)' end,
      pg_catalog.jsonb_build_object('liveWorkers', v_live, 'createdAt', v_run.created_at);
    return;
  end if;

  return query
  with s as (
    -- every step of the version (a missing row is pending) and the chain's links
    select ws.name as step, coalesce(sr.status, 'pending') as status, 'step'::text as kind, ws.task,
           ws.depends_on, sr.attempt, coalesce(sr.max_attempts, ws.attempts) as max_attempts, sr.error,
           sr.job_id, sr.locked_by, sr.started_at, coalesce(sr.kind, 'step') as row_kind
    from rowflow.workflow_steps as ws
    left join rowflow.step_runs as sr on sr.run_id = v_run.id and sr.step = ws.name
    where ws.workflow = v_run.workflow and ws.version = v_run.version
    union all
    select sr.step, sr.status, sr.kind,
           case when sr.kind = 'on_failure' then wv.on_failure
                else (select c.compensate from rowflow.workflow_steps as c
                      where c.workflow = v_run.workflow and c.version = v_run.version
                        and c.name = substr(sr.step, length('compensate:') + 1)) end,
           '{}'::text[], sr.attempt, sr.max_attempts, sr.error, sr.job_id, sr.locked_by, sr.started_at, sr.kind
    from rowflow.step_runs as sr
    join rowflow.workflow_versions as wv on wv.workflow = v_run.workflow and wv.version = v_run.version
    where sr.run_id = v_run.id and sr.kind in ('compensation', 'on_failure')
  ), x as (
    select s.*, j.run_at, j.locked_at as job_locked_at, j.locked_by as job_locked_by, q.queue_name,
           q.locked_by as queue_locked_by,
           (select array_agg(d.name order by d.name) from unnest(s.depends_on) as d(name)
            left join rowflow.step_runs as dr on dr.run_id = v_run.id and dr.step = d.name
            where coalesce(dr.status, 'pending') not in ('succeeded', 'skipped')) as waiting_on,
           (select count(*)::int from graphile_worker._private_jobs as o
            where q.id is not null and o.job_queue_id = q.id and o.id < j.id) as ahead,
           (select pg_catalog.jsonb_build_object('run', (o.payload ->> 'run')::bigint, 'step', o.payload ->> 'step')
            from graphile_worker._private_jobs as o
            where q.id is not null and q.locked_by is not null and o.job_queue_id = q.id and o.locked_at is not null
            limit 1) as holder,
           (select count(*)::int from rowflow.workers as wk
            where wk.heartbeat_at > v_now - explain_run.worker_timeout
              and (s.task = any (wk.tasks) or left(s.task, 1) = '(')) as task_workers,
           w.kind as wait_kind, w.signal as wait_signal, w.until as wait_until, w.relid as wait_relid,
           t.id as wait_task, t.assignee as wait_assignee, w.child_run_id as wait_child,
           (select c.workflow || ', ' || c.status from rowflow.runs as c where c.id = w.child_run_id) as wait_child_of,
           m.total as map_total, m.open as map_open, m.failed as map_failed
    from s
    left join rowflow.step_waits as w on w.run_id = v_run.id and w.step = s.step and s.row_kind = 'step'
    left join rowflow.human_tasks as t on t.id = w.task_id
    left join rowflow.step_maps as m on m.run_id = v_run.id and m.step = s.step and s.row_kind = 'step'
    left join graphile_worker._private_jobs as j on j.id = s.job_id
    left join graphile_worker._private_job_queues as q on q.id = j.job_queue_id
    where s.status in ('pending', 'queued', 'running')
  )
  select x.step, x.status,
    case
      when x.status = 'running' and x.map_total is not null then 'running_elements'
      when x.status = 'running' then 'running'
      when x.status = 'pending' and x.row_kind <> 'step' then 'waiting_on_chain'
      when x.status = 'pending' then 'waiting_on_dependencies'
      when x.wait_kind is not null then 'waiting_for_' || x.wait_kind
      when x.locked_by is not null then 'handed_to_worker'
      when x.run_at > v_now and x.attempt > 1 then 'backing_off'
      when x.run_at > v_now then 'delayed'
      when x.queue_name is not null and x.ahead > 0 then 'queued_behind'
      when x.task_workers = 0 then 'no_worker_for_task'
      else 'ready'
    end,
    case
      when x.status = 'running' and x.map_total is not null then
        'map step: ' || x.map_open || ' of ' || x.map_total || ' elements not finished, ' || x.map_failed || ' failed'
      when x.status = 'running' then
        'attempt ' || x.attempt || ' of ' || x.max_attempts || ' running on worker '
        || coalesce(x.locked_by, x.job_locked_by, '?') || ' since ' || x.started_at::text
      when x.status = 'pending' and x.row_kind <> 'step' then
        'waiting for the earlier links of the compensation chain'
      when x.status = 'pending' then
        'waiting on ' || coalesce(pg_catalog.array_to_string(x.waiting_on, ', '), 'its dependencies')
      when x.wait_kind is not null then
        case x.wait_kind when 'signal' then 'waiting for signal ' || x.wait_signal
                         when 'human' then 'waiting for task ' || x.wait_task || ', assigned to ' || x.wait_assignee
                         when 'child' then 'waiting for child run ' || x.wait_child || ' (' || x.wait_child_of || ')'
                         else 'waiting for a row of ' || x.wait_relid::regclass::text end
        || coalesce(', until ' || x.wait_until::text, '')
      when x.locked_by is not null then 'handed to worker ' || x.locked_by || ', starting'
      when x.run_at > v_now and x.attempt > 1 then
        'attempt ' || (x.attempt - 1) || ' of ' || x.max_attempts || ' failed'
        || coalesce(': ' || (x.error ->> 'message'), '') || '; attempt ' || x.attempt || ' starts at ' || x.run_at::text
      when x.run_at > v_now then 'delayed until ' || x.run_at::text
      when x.queue_name is not null and x.ahead > 0 then
        'queue ' || x.queue_name || ': ' || x.ahead || ' job(s) ahead'
        || coalesce(', held by run ' || (x.holder ->> 'run') || ' step ' || (x.holder ->> 'step'), '')
      when x.task_workers = 0 then 'no live worker has registered task ' || x.task
      else 'due, waiting for a free slot of ' || x.task_workers || ' live worker(s) with task ' || x.task
    end,
    pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
      'kind', x.row_kind, 'task', x.task, 'attempt', x.attempt, 'maxAttempts', x.max_attempts,
      'waitingOn', pg_catalog.to_jsonb(x.waiting_on), 'runAt', x.run_at, 'queue', x.queue_name,
      'ahead', case when x.queue_name is not null then x.ahead end, 'holder', x.holder,
      'worker', coalesce(x.locked_by, x.job_locked_by), 'liveWorkersWithTask', x.task_workers,
      'lastError', x.error, 'signal', x.wait_signal, 'taskId', x.wait_task, 'assignee', x.wait_assignee,
      'until', x.wait_until, 'childRunId', x.wait_child,
      'elements', case when x.map_total is not null then pg_catalog.jsonb_build_object(
        'total', x.map_total, 'open', x.map_open, 'failed', x.map_failed) end))
  from x
  order by case x.row_kind when 'step' then 0 else 1 end, x.step;
end;
$$;
comment on function rowflow.explain_run(bigint, timestamptz, interval) is
  'Why each unfinished step of a run is not running (or where it runs): code, sentence and figures. RF023 if the run is unknown.';
select rowflow._allow('function rowflow.explain_run(bigint, timestamptz, interval)', '{operator,viewer}');
