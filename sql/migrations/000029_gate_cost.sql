-- 000029_gate_cost.sql — a cheaper complete_steps (issue #14, the drain).
--
-- A complete_steps call ran ~15 statements whatever its batch (each pays
-- executor start-up; docs/architecture.md "What bounds the drain"), seven of
-- them the role and token checks (_require, _trusted, _role, _check_worker,
-- _secret twice). Now: the checks are one statement (a failing check still
-- calls the helper, which raises its error); the priority a release yields
-- to is part of the release plan's statement; the runs left with nothing
-- open come out of the release's UPDATE (was a statement and two EXISTS);
-- the claimed contexts are sliced from an array (was a subquery per call).
-- Behaviour is unchanged: membership and tokens are checked on every call as
-- before, and the plan stays a statement of its own after the runs' locks
-- (it must see counters a concurrent completion committed while we waited).
-- Measured on a 5,000-run diamond drain (pg_stat_statements, track = all):
-- 15.0 -> 7.4 statements per complete_steps call. (Written against 000023;
-- merged with the map steps' and traces' changes of 000025 and 000027.)


-- from sql/schema/60_gate/complete_steps.sql
create or replace function rowflow.complete_steps(
  run_ids bigint[], steps text[], attempts int[], outputs jsonb[],
  takes int[] default null, worker_id text default null, now timestamptz default null,
  claim boolean default false, reserve int default 0,
  next_run_ids bigint[] default null, next_steps text[] default null, next_attempts int[] default null,
  leases text[] default null, worker_token text default null)
returns setof jsonb
language plpgsql
security definer
set search_path to ''
set plan_cache_mode to force_generic_plan
set enable_seqscan to off
set enable_hashjoin to off
set enable_mergejoin to off
set jit to off
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(complete_steps.now, pg_catalog.statement_timestamp());
  v_n int := coalesce(cardinality(complete_steps.run_ids), 0);
  v_worker text := complete_steps.worker_id;
  v_takes int[];
  v_reserve int := case when complete_steps.worker_id is null then 0 else greatest(coalesce(complete_steps.reserve, 0), 0) end;
  v_next_os int[];
  v_done record;
  v_plan record;
  v_yield int;
  v_job_ids bigint[] := '{}';
  v_job_runs bigint[] := '{}';
  v_job_steps text[] := '{}';
  v_taken text[] := '{}';
  v_reserved text[] := '{}';
  v_left int[];
  v_rel rowflow.released_step[] := '{}';
  v_ended bigint[];
  v_compensating boolean;
  v_run rowflow.runs;
  v_next text;
  v_chained jsonb := '{}';
  v_status jsonb := '{}';
  v_begun jsonb := '{}';
  v_claimed jsonb;
  v_claimed_taken jsonb[];
  v_claim_i int;
  v_refusals jsonb;
  v_queued int := 0;
  v_by_call jsonb;
  v_answer jsonb;
  v_i int;
  v_woke int;
  v_guard record;
  v_key bytea;
  v_trusted boolean;
  v_limit int := coalesce(nullif(pg_catalog.current_setting('rowflow.max_output_bytes', true), '')::int, 1048576);
begin
  -- GUARD: a worker; one value per call in every array; the worker's token
  -- when it takes or reserves steps. The checks of rowflow._require,
  -- _check_worker, _trusted and _secret in one statement (they cost seven
  -- statements per call as calls); a failing check calls the helper, which
  -- raises its error.
  select (select pg_catalog.pg_has_role(session_user, n.nspowner, 'MEMBER')
          from pg_catalog.pg_namespace as n where n.nspname = 'rowflow') as trusted,
         (select pg_catalog.pg_has_role(session_user, r.name, 'MEMBER')
          from rowflow.roles as r where r.kind = 'worker') as member,
         (select s.key from rowflow.secrets as s) as key
  into v_guard;
  if not (coalesce(v_guard.trusted, false) or coalesce(v_guard.member, false)) then
    perform rowflow._require('{worker}');
  end if;
  if coalesce(cardinality(complete_steps.steps), 0) <> v_n
     or coalesce(cardinality(complete_steps.attempts), 0) <> v_n
     or coalesce(cardinality(complete_steps.outputs), v_n) <> v_n
     or coalesce(cardinality(complete_steps.takes), v_n) <> v_n
     or coalesce(cardinality(complete_steps.next_run_ids), v_n) <> v_n
     or coalesce(cardinality(complete_steps.next_steps), v_n) <> v_n
     or coalesce(cardinality(complete_steps.next_attempts), v_n) <> v_n
     or coalesce(cardinality(complete_steps.leases), v_n) <> v_n then
    raise exception 'complete_steps: every array argument must have one value per call' using errcode = '22023';
  end if;
  if v_n = 0 then
    return;
  end if;
  v_key := v_guard.key;
  if v_worker is not null
     and (complete_steps.worker_token is null and not coalesce(v_guard.trusted, false)
          or complete_steps.worker_token is not null
             and complete_steps.worker_token is distinct from rowflow._mac(v_key, 'worker:' || v_worker)) then
    perform rowflow._check_worker(v_worker, complete_steps.worker_token);
  end if;
  v_trusted := complete_steps.leases is null and coalesce(v_guard.trusted, false);
  -- Simple expressions where they do (no statement to start): a take that
  -- is null or negative counts as 0 wherever takes are compared (> 0).
  v_takes := case when v_worker is null or complete_steps.takes is null then array_fill(0, array[v_n])
                  else complete_steps.takes end;
  v_next_os := '{}';
  if v_worker is not null and complete_steps.next_run_ids is not null then
    v_next_os := array(select i from pg_catalog.generate_series(1, v_n) as i
                       where complete_steps.next_run_ids[i] is not null);
  end if;

  -- PHASE 1: lock order: the runs (id order: completions' and next steps'),
  -- then step rows. The running attempts succeed and lose their leases.
  with l as (
    select r.id, r.status from rowflow.runs as r
    where r.id = any (complete_steps.run_ids || coalesce(complete_steps.next_run_ids, '{}'))
    order by r.id
    for no key update
  ), c as (
    -- Fenced: the call shows the attempt's lease token (a trusted session
    -- may omit every token). An output over the limit (rowflow.max_output_bytes,
    -- default 1 MiB of JSON text) is refused, so that the worker fails the step.
    select x.*,
      case when x.lease is null then v_trusted
           else x.lease = rowflow._lease(v_key, x.run_id, x.step, x.attempt) end as fenced,
      x.output is not null and pg_catalog.pg_column_size(x.output) > v_limit / 6
        and pg_catalog.octet_length(x.output::text) > v_limit as too_big
    from unnest(complete_steps.run_ids, complete_steps.steps, complete_steps.attempts, complete_steps.outputs,
                coalesce(complete_steps.leases, array_fill(null::text, array[v_n])))
         with ordinality as x(run_id, step, attempt, output, lease, o)
  ), u as (
    update rowflow.step_runs as sr
    set status = 'succeeded', output = c.output, finished_at = v_now, locked_by = null
    from c join l on l.id = c.run_id and l.status in ('running', 'compensating')
    where sr.run_id = c.run_id and sr.step = c.step and sr.attempt = c.attempt and sr.status = 'running'
      and c.fenced and not c.too_big
    returning c.o, sr.run_id, sr.step, sr.kind
  )
  select coalesce(array_agg(u.o::int order by u.o), '{}') as os,
         coalesce(array_agg(row(u.run_id, u.step, u.o)::rowflow.done_step order by u.run_id, u.step)
                  filter (where u.kind = 'step'), '{}') as steps,
         coalesce(array_agg(distinct u.run_id) filter (where u.kind in ('compensation', 'on_failure')), '{}') as chain_runs,
         coalesce(array_agg(row(u.run_id, u.step, u.o)::rowflow.done_step order by u.run_id, u.step)
                  filter (where u.kind = 'element'), '{}') as elements,
         coalesce(array_agg(distinct u.run_id), '{}') as runs,
         (select pg_catalog.jsonb_object_agg(l.id::text, l.status) from l) as run_status,
         (select pg_catalog.jsonb_object_agg(c.o::text, case when not c.fenced
             then '{"ok": false, "reason": "not_lease_holder"}'::jsonb
             else pg_catalog.jsonb_build_object('ok', false, 'reason', 'output_too_large',
                    'bytes', pg_catalog.octet_length(c.output::text), 'limit', v_limit) end)
          from c where not c.fenced or c.too_big) as unfenced,
         -- Who waits for a NOTIFY (sql/schema/20_tables/31_waiters.sql):
         -- usually nobody, and then no _wake_all call at the end.
         (select pg_catalog.array_agg(w.channel) from rowflow.waiters as w
          where w.channel in ('jobs:insert', 'rowflow') and w.until > pg_catalog.statement_timestamp()) as waiting
  into v_done
  from u;

  -- PHASE 1b: map elements count down; a map step whose last element
  -- this was is done, and released below like any completed step
  -- (sql/schema/62_map/_map_settle.sql).
  if cardinality(v_done.elements) > 0 then
    v_done.steps := v_done.steps || rowflow._map_settle(v_done.elements, v_now);
  end if;

  -- PHASE 2: release dependents. The plan: each dependent of a completed
  -- step, its counter after this batch, and whether the fast path applies.
  -- A statement of its own, not part of PHASE 1's: its snapshot is taken
  -- after PHASE 1 locked the runs, so it sees the counters that a
  -- concurrent completion of the same run committed while we waited
  -- (invariant 3).
  v_left := v_takes;
  v_ended := v_done.runs;
  if cardinality(v_done.steps) > 0 then
    -- Who runs the ready ones: call i's slots (takes[i]), this worker's
    -- local queue (reserve), or graphile (a job). Not this worker while
    -- something with a lower priority value waits (that some worker can
    -- fetch: not in a locked named queue, see claim_runs.sql): the best
    -- such priority (yield) is part of the plan. Only what beats the worst
    -- ready priority matters: bounded index scans, which stop at the first
    -- page past the bound (claimed runs leave dead entries at the start of
    -- runs_queued_idx until vacuum).
    select p.*,
           case when p.plain and v_worker is not null and (v_reserve > 0 or 0 < any (v_takes)) and p.worst is not null then least(
             (select r.priority from rowflow.runs as r
              where r.status = 'queued' and r.priority < p.worst
                and not exists (select 1 from rowflow.workflows as w where w.name = r.workflow and w.paused)
              order by r.priority limit 1),
             (select j.priority from graphile_worker._private_jobs as j
              where j.is_available = true and j.run_at <= v_now and j.priority < p.worst
                and (j.job_queue_id is null
                     or exists (select 1 from graphile_worker._private_job_queues as q
                                where q.id = j.job_queue_id and q.is_available))
              order by j.priority limit 1)) end as yield
    into v_plan
    from (
    select coalesce(bool_and(x.plain), true) as plain,
           coalesce(array_agg(x.run_id::text || ':' || x.name order by x.eff_priority, x.origin, x.run_id, x.name)
                    filter (where x.remaining = 0), '{}') as ready,
           coalesce(array_agg(x.origin order by x.eff_priority, x.origin, x.run_id, x.name)
                    filter (where x.remaining = 0), '{}') as ready_origin,
           coalesce(array_agg(x.eff_priority order by x.eff_priority, x.origin, x.run_id, x.name)
                    filter (where x.remaining = 0), '{}') as ready_priority,
           coalesce(array_agg(row(x.origin, x.run_id, x.name, x.n)::rowflow.dependent
                              order by x.run_id, x.name), '{}') as deps,
           max(x.eff_priority) filter (where x.remaining = 0) as worst
    from (
      select d.origin, d.run_id, d.name, d.n,
        sr.step is not null and sr.kind = 'step' and ws.if_path is null and ws.queue_name is null
          and coalesce(ws.delay, interval '0') <= interval '0' and ws.wait is null and ws.map_path is null as plain,
        coalesce(sr.deps_remaining, ws.n_deps) - d.n as remaining,
        greatest(-32768, least(32767, ws.priority + r.priority)) as eff_priority
      from (
        select f.run_id, dep.name, count(*)::int as n, max(f.origin) as origin
        from unnest(v_done.steps) as f(run_id, step, origin)
        join rowflow.runs as fr on fr.id = f.run_id
        join rowflow.workflow_steps as fs on fs.workflow = fr.workflow and fs.version = fr.version and fs.name = f.step
        cross join unnest(fs.dependents) as dep(name)
        group by f.run_id, dep.name
      ) as d
      join rowflow.runs as r on r.id = d.run_id
      join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = d.name
      left join rowflow.step_runs as sr on sr.run_id = d.run_id and sr.step = d.name
      where sr.step is null or (sr.kind = 'step' and sr.status = 'pending')
    ) as x
    ) as p;

    if v_plan.plain then
      if cardinality(v_plan.ready) > 0 and v_worker is not null
         and (v_reserve > 0 or 0 < any (v_takes)) then
        v_yield := v_plan.yield;
        for v_i in 1 .. cardinality(v_plan.ready) loop
          exit when v_yield is not null and v_plan.ready_priority[v_i] > v_yield;
          if v_left[v_plan.ready_origin[v_i]] > 0 then
            v_taken := v_taken || v_plan.ready[v_i];
            v_left[v_plan.ready_origin[v_i]] := v_left[v_plan.ready_origin[v_i]] - 1;
          elsif v_reserve > 0 then
            v_reserved := v_reserved || v_plan.ready[v_i];
            v_reserve := v_reserve - 1;
          end if;
        end loop;
      end if;
      -- Jobs for the ready ones graphile runs (none when this worker takes
      -- or reserves them all: no INSERT to start).
      if cardinality(v_plan.ready) > cardinality(v_taken) + cardinality(v_reserved) then
        with j as (
        insert into graphile_worker._private_jobs as j (job_queue_id, task_id, payload, run_at, max_attempts, priority)
        select null,
               (select t.id from graphile_worker._private_tasks as t where t.identifier = 'rowflow:step'),
               pg_catalog.json_build_object('run', k.run_id, 'step', k.name, 'attempt', 1),
               v_now, 25, greatest(-32768, least(32767, ws.priority + r.priority))
        from (
          select split_part(x.k, ':', 1)::bigint as run_id, substr(x.k, strpos(x.k, ':') + 1) as name
          from unnest(v_plan.ready) as x(k)
          where not x.k = any (v_taken) and not x.k = any (v_reserved)
        ) as k
        join rowflow.runs as r on r.id = k.run_id
        join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = k.name
        order by k.run_id, k.name
        returning j.id, (j.payload ->> 'run')::bigint as run_id, j.payload ->> 'step' as step
        )
        select pg_catalog.array_agg(j.id), pg_catalog.array_agg(j.run_id), pg_catalog.array_agg(j.step)
        into v_job_ids, v_job_runs, v_job_steps
        from j;
      end if;
      -- One statement: every dependent's row updated (leased when taken or
      -- reserved, with its job otherwise), and what the answers need.
      with d as (
        select * from unnest(v_plan.deps) as d(origin, run_id, name, n)
      ), j as (
        select * from unnest(v_job_ids, v_job_runs, v_job_steps) as j(id, run_id, step)
      ), u as (
        update rowflow.step_runs as sr
        set deps_remaining = sr.deps_remaining - d.n,
            status = case when sr.deps_remaining > d.n then 'pending'
                          when (sr.run_id::text || ':' || sr.step) = any (v_taken) then 'running'
                          else 'queued' end,
            attempt = case when sr.deps_remaining > d.n then 0 else 1 end,
            queued_at = case when sr.deps_remaining = d.n then v_now end,
            started_at = case when (sr.run_id::text || ':' || sr.step) = any (v_taken) then v_now end,
            job_id = j.id,
            locked_by = case when sr.deps_remaining = d.n
                              and ((sr.run_id::text || ':' || sr.step) = any (v_taken)
                                   or (sr.run_id::text || ':' || sr.step) = any (v_reserved)) then v_worker end
        from d left join j on j.run_id = d.run_id and j.step = d.name
        where sr.run_id = d.run_id and sr.step = d.name and sr.status = 'pending'
        returning d.origin, sr.run_id, sr.step, sr.status, sr.locked_by, sr.max_attempts
      )
      select coalesce(array_agg(row(u.origin, u.run_id, u.step,
               case when u.status = 'queued' and u.locked_by is not null then 'reserved' else u.status end,
               case when u.status = 'running' then pg_catalog.jsonb_build_object(
                 'ok', true, 'runId', u.run_id::text, 'step', u.step, 'task', ws.task,
                 'workflow', r.workflow, 'version', r.version, 'input', r.input,
                 'deps', (select coalesce(pg_catalog.jsonb_object_agg(o.step, o.output), '{}'::jsonb)
                          from rowflow.step_runs as o where o.run_id = u.run_id and o.step = any (ws.depends_on)),
                 'attempt', 1, 'maxAttempts', u.max_attempts,
                 'timeoutMs', (extract(epoch from ws.timeout) * 1000)::bigint,
                 'idempotencyKey', 'rowflow:' || u.run_id || ':' || u.step,
                 'kind', 'step', 'runError', null,
                 'priority', greatest(-32768, least(32767, ws.priority + r.priority)),
                 'lease', rowflow._lease(v_key, u.run_id, u.step, 1),
                 'traceparent', r.traceparent, 'tracestate', r.tracestate, 'runCreatedAt', r.created_at)
                    when u.status = 'queued' and u.locked_by is not null then pg_catalog.jsonb_build_object(
                 'runId', u.run_id::text, 'step', u.step, 'attempt', 1,
                 'priority', greatest(-32768, least(32767, ws.priority + r.priority))) end
             )::rowflow.released_step order by u.run_id, u.step), '{}'),
             count(*) filter (where u.status = 'queued' and u.locked_by is null)::int,
             -- The completed runs none of whose dependents is pending, queued or running now.
             array(select x from unnest(v_done.runs) as x
                   where not x = any (coalesce(array_agg(u.run_id), '{}')))
      into v_rel, v_queued, v_ended
      from u
      join rowflow.runs as r on r.id = u.run_id
      join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = u.step;
    else
      -- The general path: conditions, queues, delays, rows to create.
      v_rel := array(select rowflow._release(v_done.steps, v_takes, v_worker, v_now, v_key));
      v_left := array(select greatest(0, t.n - (select count(*) from unnest(v_rel) as x
                                                where x.origin = t.o and x.status = 'running'))::int
                      from unnest(v_takes) with ordinality as t(n, o) order by t.o);
      v_ended := array(select x from unnest(v_done.runs) as x
                       where not exists (select 1 from unnest(v_rel) as y where y.run_id = x and y.status <> 'skipped'));
    end if;
  end if;
  -- PHASE 3: the next link of compensation / on-failure chains (rare).
  if cardinality(v_done.chain_runs) > 0 then
    for v_run in select r.* from rowflow.runs as r where r.id = any (v_done.chain_runs) order by r.id loop
      v_next := rowflow._advance_chain_step(v_run, v_now);
      if v_next is not null then
        v_chained := v_chained || pg_catalog.jsonb_build_object(v_run.id::text, v_next);
        v_ended := pg_catalog.array_remove(v_ended, v_run.id);
      end if;
    end loop;
  end if;

  -- PHASE 4: finish the runs left with nothing open: a running one
  -- succeeds when no step row of it is pending, queued or running (every
  -- step has a row then: a finished step gave each dependent one); a
  -- compensating one takes _finish_runs (the chain's results). v_ended: the
  -- completed runs that do not go on (no dependent of theirs pending,
  -- queued or running now, no next link of their chain).
  if cardinality(v_ended) > 0 then
    with f as (
      update rowflow.runs as r
      set status = 'succeeded', updated_at = v_now, finished_at = v_now
      where r.id = any (v_ended)
        and r.status = 'running'
        and not exists (select 1 from rowflow.step_runs as sr
                        where sr.run_id = r.id and sr.status in ('pending', 'queued', 'running'))
      returning r.id
    )
    select coalesce((select pg_catalog.jsonb_object_agg(f.id::text, 'succeeded') from f), '{}'),
           coalesce((select bool_or(v_done.run_status ->> x::text = 'compensating') from unnest(v_ended) as x), false)
    into v_status, v_compensating;
    if v_compensating then
      select v_status || coalesce(pg_catalog.jsonb_object_agg(f.run_id::text, f.status), '{}') into v_status
      from rowflow._finish_runs(array(select x from unnest(v_ended) as x
                                      where v_done.run_status ->> x::text = 'compensating'), v_now) as f;
    end if;
  end if;

  -- PHASE 5: a call's slot that took no dependent runs its reserved next
  -- step (a slot that did keeps the next step queued: the worker puts it
  -- back).
  if cardinality(v_next_os) > 0 then
    v_next_os := array(select i from unnest(v_next_os) as i where v_left[i] > 0 order by i);
  end if;
  if cardinality(v_next_os) > 0 then
    v_begun := rowflow._begin(
      array(select complete_steps.next_run_ids[i] from unnest(v_next_os) as i),
      array(select complete_steps.next_steps[i] from unnest(v_next_os) as i),
      array(select complete_steps.next_attempts[i] from unnest(v_next_os) as i),
      v_next_os, v_worker, v_now, true, v_key);
    foreach v_i in array v_next_os loop
      if (v_begun -> (v_i::text) ->> 'ok')::boolean then
        v_left[v_i] := v_left[v_i] - 1;
      end if;
    end loop;
  end if;

  -- PHASE 6: slots left over claim queued runs.
  if complete_steps.claim and v_worker is not null and 0 < any (v_left) then
    v_claimed := rowflow._claim(v_worker, (select sum(t)::int from unnest(v_left) as t),
                                (select sum(t)::int from unnest(v_left) as t), v_now, v_key);
  end if;

  -- PHASE 7: answers in call order, assembled in plpgsql (no statement per
  -- call): what the release decided, grouped by call; claimed root steps
  -- fill the calls' leftover slots in call order.
  if cardinality(v_done.os) < v_n then
    select coalesce(v_done.unfenced, '{}'::jsonb)
           || coalesce(pg_catalog.jsonb_object_agg(f.o::text, f.refusal) filter (where not coalesce(v_done.unfenced, '{}'::jsonb) ? f.o::text), '{}')
    into v_refusals
    from rowflow._refusals(
      array(select c.run_id from unnest(complete_steps.run_ids) with ordinality as c(run_id, o)
            where not c.o = any (v_done.os) order by c.o),
      array(select c.step from unnest(complete_steps.steps) with ordinality as c(step, o)
            where not c.o = any (v_done.os) order by c.o),
      array(select c.attempt from unnest(complete_steps.attempts) with ordinality as c(attempt, o)
            where not c.o = any (v_done.os) order by c.o),
      array(select i from pg_catalog.generate_series(1, v_n) as i where not i = any (v_done.os) order by i),
      array['running']) as f;
  end if;
  if cardinality(v_rel) > 0 then
    select pg_catalog.jsonb_object_agg(g.origin::text, g.answer) into v_by_call
    from (
      select x.origin, pg_catalog.jsonb_build_object(
        'released', coalesce(pg_catalog.jsonb_agg(x.step order by x.step)
                               filter (where x.status in ('queued', 'running', 'reserved')), '[]'::jsonb),
        'skipped', coalesce(pg_catalog.jsonb_agg(x.step order by x.step) filter (where x.status = 'skipped'), '[]'::jsonb),
        'taken', coalesce(pg_catalog.jsonb_agg(x.context order by x.run_id, x.step)
                            filter (where x.status = 'running'), '[]'::jsonb),
        'reserved', coalesce(pg_catalog.jsonb_agg(x.context order by x.run_id, x.step)
                               filter (where x.status = 'reserved'), '[]'::jsonb)) as answer
      from unnest(v_rel) as x
      group by x.origin
    ) as g;
  end if;
  if 'rowflow' = any (v_done.waiting) or (v_queued > 0 and 'jobs:insert' = any (v_done.waiting)) then
    v_woke := rowflow._wake_all(v_queued, 0,
      case when cardinality(v_done.runs) = 1 then pg_catalog.jsonb_build_object('run', v_done.runs[1])
           else pg_catalog.jsonb_build_object('runs', cardinality(v_done.runs)) end);
  end if;
  -- The claimed contexts as an array, so that each call's share is a slice.
  v_claimed_taken := '{}';
  if pg_catalog.jsonb_array_length(coalesce(v_claimed -> 'taken', '[]'::jsonb)) > 0 then
    v_claimed_taken := array(select t.e from pg_catalog.jsonb_array_elements(v_claimed -> 'taken')
                             with ordinality as t(e, k) order by t.k);
  end if;
  v_claim_i := 0;
  for v_i in 1 .. v_n loop
    v_answer := coalesce(v_by_call -> (v_i::text), '{"released": [], "skipped": [], "taken": [], "reserved": []}'::jsonb);
    -- The reserved step begun for this call's slot goes first.
    if (v_begun -> (v_i::text) ->> 'ok')::boolean then
      v_answer := pg_catalog.jsonb_set(v_answer, '{taken}',
                                       pg_catalog.jsonb_build_array(v_begun -> (v_i::text)) || (v_answer -> 'taken'));
    end if;
    if v_left[v_i] > 0 and v_claim_i < cardinality(v_claimed_taken) then
      v_answer := pg_catalog.jsonb_set(v_answer, '{taken}', (v_answer -> 'taken')
        || pg_catalog.to_jsonb(v_claimed_taken[v_claim_i + 1 : v_claim_i + v_left[v_i]]));
      v_claim_i := v_claim_i + v_left[v_i];
    end if;
    if v_i = any (v_done.os) then
      v_answer := v_answer || pg_catalog.jsonb_build_object('ok', true, 'runStatus',
        coalesce(v_status ->> complete_steps.run_ids[v_i]::text, v_done.run_status ->> complete_steps.run_ids[v_i]::text));
      if v_chained ? complete_steps.run_ids[v_i]::text and pg_catalog.jsonb_array_length(v_answer -> 'released') = 0 then
        v_answer := pg_catalog.jsonb_set(v_answer, '{released}',
                                         pg_catalog.jsonb_build_array(v_chained ->> complete_steps.run_ids[v_i]::text));
      end if;
    else
      v_answer := (v_refusals -> (v_i::text)) || (v_answer - 'released' - 'skipped');
    end if;
    if v_claimed is not null then
      v_answer := v_answer || pg_catalog.jsonb_build_object('claimedRuns', v_claimed -> 'runs');
    end if;
    return next v_answer;
  end loop;
end;
$$;
comment on function rowflow.complete_steps(bigint[], text[], int[], jsonb[], int[], text, timestamptz, boolean, int, bigint[], text[], int[], text[], text) is
  'Completes running step attempts (set-based; each with its lease token), releases dependents (taken, reserved or queued), begins reserved next steps, claims queued runs for leftover slots, finishes runs; one answer per call.';
select rowflow._allow('function rowflow.complete_steps(bigint[], text[], int[], jsonb[], int[], text, timestamptz, boolean, int, bigint[], text[], int[], text[], text)', '{worker}');
