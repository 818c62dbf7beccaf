-- 000019_cancel_compensate.sql — cancel a run and undo what it did; an
-- audit of definitions and attachments; a timeline viewers can read;
-- which workers are alive.
--
-- rowflow.cancel_run(…, compensate => true) and cancel_runs(…, compensate):
-- a running run's succeeded steps are compensated first, as a failure would
-- compensate them (their compensate tasks in reverse completion order, no
-- on-failure handler), the run 'compensating' with error {"cancelled":
-- true}, and it ends 'cancelled' with a run_cancelled event once the chain
-- is done (rowflow._finish_runs). The chain is built by one function,
-- rowflow._build_chain, which the failure path (rowflow._fail_attempt) now
-- calls as well. The old signatures are dropped: a new trailing parameter
-- keeps every positional and named call working.
--
-- rowflow.audit also records each new workflow version (define_workflow;
-- the same spec again writes nothing), each attach and each detach, with
-- the session's identity; the reason is the session's rowflow.reason
-- setting when an action takes no reason argument.
--
-- rowflow.run_timeline failed for rowflow_viewer (42501: it called the
-- internal rowflow._has_stored_start, which only the owner may execute);
-- the condition is now an inline NOT EXISTS and the function is gone.
--
-- rowflow.worker_status: the workers with alive, silent_for and running.

-- New audit actions. NOT VALID, then validated: the scan takes SHARE
-- UPDATE EXCLUSIVE, so the operations' audit writes are not blocked.
alter table rowflow.audit drop constraint action_is_valid;
alter table rowflow.audit add constraint action_is_valid check (action in (
    'pause_workflow', 'resume_workflow', 'retry_run', 'rerun_from', 'skip_step', 'purge_runs', 'cancel_run',
    'set_retention', 'apply_retention', 'define_workflow', 'attach', 'detach')) not valid;
alter table rowflow.audit validate constraint action_is_valid;

drop function rowflow.cancel_run(run_id bigint, reason text, now timestamp with time zone);
drop function rowflow.cancel_runs(workflow text, statuses text[], since timestamp with time zone, before timestamp with time zone, reason text, max_runs integer, now timestamp with time zone);

-- from sql/schema/25_views/run_timeline.sql
create or replace view rowflow.run_timeline as
select e.run_id, e.at, e.step, e.type, e.attempt, e.data, e.id,
  case e.type
    when 'run_started' then 0
    when 'step_succeeded' then 1 when 'step_failed' then 1 when 'step_retrying' then 1
    when 'step_skipped' then 2 when 'step_cancelled' then 2
    when 'step_queued' then 3 when 'step_started' then 4
    else 5 end as ord
from rowflow.events as e
union all
-- The implied events, for runs that store only what the rows cannot tell (a
-- run from before has a stored run_started event and stored ordinary-path events).
-- run_started: claimed by a worker.
select r.id, r.started_at, null, 'run_started', null, null, null, 0
from rowflow.runs as r where r.started_at is not null and not exists (select 1 from rowflow.events as se where se.run_id = r.id and se.type = 'run_started')
union all
-- run_succeeded (failed and cancelled runs have their stored event).
select r.id, r.finished_at, null, 'run_succeeded', null, null, null, 5
from rowflow.runs as r where r.status = 'succeeded' and not exists (select 1 from rowflow.events as se where se.run_id = r.id and se.type = 'run_started')
union all
-- step_queued: the first attempt (queued_at), and every retry (the
-- step_retrying event queues the next attempt).
select sr.run_id, sr.queued_at, sr.step, 'step_queued', 1, null, null, 3
from rowflow.step_runs as sr where sr.queued_at is not null and not exists (select 1 from rowflow.events as se where se.run_id = sr.run_id and se.type = 'run_started')
union all
select e.run_id, e.at, e.step, 'step_queued', (e.data ->> 'nextAttempt')::int, null, null, 3
from rowflow.events as e where e.type = 'step_retrying' and not exists (select 1 from rowflow.events as se where se.run_id = e.run_id and se.type = 'run_started')
union all
-- step_started: the current attempt (started_at), and failed attempts
-- (their step_retrying / step_failed event records when they started).
select sr.run_id, sr.started_at, sr.step, 'step_started', sr.attempt, null, null, 4
from rowflow.step_runs as sr
where sr.started_at is not null and sr.status in ('running', 'succeeded', 'cancelled')
  and not exists (select 1 from rowflow.events as se where se.run_id = sr.run_id and se.type = 'run_started')
union all
select e.run_id, (e.data ->> 'startedAt')::timestamptz, e.step, 'step_started', e.attempt, null, null, 4
from rowflow.events as e
where e.type in ('step_retrying', 'step_failed') and e.data ->> 'startedAt' is not null
union all
-- step_succeeded.
select sr.run_id, sr.finished_at, sr.step, 'step_succeeded', sr.attempt, null, null, 1
from rowflow.step_runs as sr where sr.status = 'succeeded' and not exists (select 1 from rowflow.events as se where se.run_id = sr.run_id and se.type = 'run_started');
comment on view rowflow.run_timeline is
  'Every event of a run: stored (rowflow.events) and implied by the rows (run_started, step_queued, step_started, step_succeeded, run_succeeded). Filter by run_id; order by at, ord, step.';
select rowflow._allow('view rowflow.run_timeline', '{viewer}');

-- from sql/schema/25_views/worker_status.sql
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

-- The view no longer calls it (a viewer lacked EXECUTE on it).
drop function rowflow._has_stored_start(run_id bigint);

-- from sql/schema/30_define/define_workflow.sql
create or replace function rowflow.define_workflow(name text, spec jsonb, owner name default current_user)
returns int
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  c_name_re constant text := '^[a-z][a-z0-9_-]{0,62}$';
  c_task_re constant text := '^[A-Za-z][A-Za-z0-9_.:-]{0,127}$';
  c_queue_re constant text := '^[A-Za-z0-9_.-]{1,63}$';
  v_key text;
  v_step jsonb;
  v_ord int;
  v_sname text;
  v_where text;
  v_val jsonb;
  v_names text[] := '{}';
  v_norm jsonb[] := '{}';
  v_deps text[];
  v_dep text;
  v_backoff jsonb;
  v_btype text;
  v_bbase interval;
  v_bmax interval;
  v_bjitter double precision;
  v_queue jsonb;
  v_qname text;
  v_qkey text;
  v_at jsonb;
  v_indeg int[];
  v_first int[];
  v_outdeg int[];
  v_to int[];
  v_ready int[];
  v_head int := 1;
  v_done boolean[];
  v_u int;
  v_v int;
  v_path text[];
  v_cur text;
  v_pos int;
  v_cycle text[];
  v_latest int;
  v_latest_spec jsonb;
  v_version int;
  v_owner name;
begin
  -- GUARD: the session acts for owner.
  if define_workflow.owner is null
     or not exists (select 1 from pg_catalog.pg_roles as r where r.rolname = define_workflow.owner)
     or not pg_catalog.pg_has_role(session_user, define_workflow.owner, 'MEMBER') then
    raise exception 'define_workflow: session user % cannot act for role %', session_user,
      coalesce(pg_catalog.quote_ident(define_workflow.owner), 'null') using errcode = '42501';
  end if;
  -- GUARD: the name and the top-level shape.
  if define_workflow.name is null or define_workflow.name !~ c_name_re then
    raise exception 'invalid workflow name %: use 1-63 characters a-z, 0-9, "_" or "-", starting with a lowercase letter',
      coalesce(to_jsonb(left(define_workflow.name, 100))::text, 'null') using errcode = 'RF004';
  end if;
  if jsonb_typeof(define_workflow.spec) is distinct from 'object' then
    raise exception 'workflow "%": the spec must be a JSON object, got %', define_workflow.name,
      coalesce(jsonb_typeof(define_workflow.spec), 'null') using errcode = 'RF001';
  end if;
  if pg_catalog.octet_length(define_workflow.spec::text) > 1048576 then
    raise exception 'workflow "%": the spec is % bytes of JSON; the limit is 1 MiB (1048576 bytes)',
      define_workflow.name, pg_catalog.octet_length(define_workflow.spec::text) using errcode = 'RF001';
  end if;
  for v_key in select k from jsonb_object_keys(define_workflow.spec) as k order by k loop
    if v_key not in ('name', 'description', 'onFailure', 'steps') then
      raise exception 'workflow "%": unknown option %; allowed: name, description, onFailure, steps',
        define_workflow.name, to_jsonb(left(v_key, 100))::text using errcode = 'RF002';
    end if;
  end loop;
  if define_workflow.spec ? 'name' and define_workflow.spec -> 'name' is distinct from to_jsonb(define_workflow.name) then
    raise exception 'workflow "%": spec.name is %, which differs from the name argument; remove it or make them equal',
      define_workflow.name, left((define_workflow.spec -> 'name')::text, 100) using errcode = 'RF001';
  end if;
  if define_workflow.spec ? 'description' and jsonb_typeof(define_workflow.spec -> 'description') <> 'string' then
    raise exception 'workflow "%": description must be a string', define_workflow.name using errcode = 'RF001';
  end if;
  if define_workflow.spec ? 'onFailure' then
    if jsonb_typeof(define_workflow.spec -> 'onFailure') <> 'string' then
      raise exception 'workflow "%": onFailure must be a task name (string)', define_workflow.name using errcode = 'RF001';
    end if;
    if (define_workflow.spec ->> 'onFailure') !~ c_task_re then
      raise exception 'workflow "%": invalid onFailure task name %: use 1-128 characters A-Z, a-z, 0-9, "_", ".", ":" or "-", starting with a letter',
        define_workflow.name, left((define_workflow.spec -> 'onFailure')::text, 140) using errcode = 'RF004';
    end if;
  end if;
  if jsonb_typeof(define_workflow.spec -> 'steps') is distinct from 'array' then
    raise exception 'workflow "%": steps must be an array of step objects', define_workflow.name using errcode = 'RF001';
  end if;
  if jsonb_array_length(define_workflow.spec -> 'steps') = 0 then
    raise exception 'workflow "%" has no steps; add at least one step', define_workflow.name using errcode = 'RF003';
  end if;
  if jsonb_array_length(define_workflow.spec -> 'steps') > 1000 then
    raise exception 'workflow "%" has % steps; at most 1000 are allowed', define_workflow.name,
      jsonb_array_length(define_workflow.spec -> 'steps') using errcode = 'RF001';
  end if;

  -- PHASE 1: each step on its own: shape, names, options, intervals, paths.
  for v_step, v_ord in select e, o - 1 from jsonb_array_elements(define_workflow.spec -> 'steps') with ordinality as t(e, o) loop
    v_where := format('workflow "%s", steps[%s]', define_workflow.name, v_ord);
    if jsonb_typeof(v_step) <> 'object' then
      raise exception '%: a step must be an object', v_where using errcode = 'RF001';
    end if;
    if jsonb_typeof(v_step -> 'name') is distinct from 'string' then
      raise exception '%: "name" is required and must be a string', v_where using errcode = 'RF001';
    end if;
    v_sname := v_step ->> 'name';
    if v_sname !~ c_name_re then
      raise exception '%: invalid step name %: use 1-63 characters a-z, 0-9, "_" or "-", starting with a lowercase letter',
        v_where, to_jsonb(left(v_sname, 100))::text using errcode = 'RF004';
    end if;
    v_where := format('workflow "%s", step "%s"', define_workflow.name, v_sname);
    for v_key in select k from jsonb_object_keys(v_step) as k order by k loop
      if v_key not in ('name', 'task', 'dependsOn', 'attempts', 'backoff', 'timeout', 'priority',
                       'queue', 'delay', 'if', 'compensate') then
        raise exception '%: unknown option %; allowed: name, task, dependsOn, attempts, backoff, timeout, priority, queue, delay, if, compensate',
          v_where, to_jsonb(left(v_key, 100))::text using errcode = 'RF002';
      end if;
    end loop;
    if v_sname = any (v_names) then
      raise exception 'workflow "%": duplicate step name "%"; step names must be unique', define_workflow.name, v_sname
        using errcode = 'RF005';
    end if;
    v_names := v_names || v_sname;

    if jsonb_typeof(v_step -> 'task') is distinct from 'string' then
      raise exception '%: "task" is required and must be a string', v_where using errcode = 'RF001';
    end if;
    if (v_step ->> 'task') !~ c_task_re then
      raise exception '%: invalid task name %: use 1-128 characters A-Z, a-z, 0-9, "_", ".", ":" or "-", starting with a letter',
        v_where, left((v_step -> 'task')::text, 140) using errcode = 'RF004';
    end if;
    if v_step ? 'compensate' then
      if jsonb_typeof(v_step -> 'compensate') <> 'string' then
        raise exception '%: "compensate" must be a task name (string)', v_where using errcode = 'RF001';
      end if;
      if (v_step ->> 'compensate') !~ c_task_re then
        raise exception '%: invalid compensate task name %: use 1-128 characters A-Z, a-z, 0-9, "_", ".", ":" or "-", starting with a letter',
          v_where, left((v_step -> 'compensate')::text, 140) using errcode = 'RF004';
      end if;
    end if;

    v_deps := '{}';
    if v_step ? 'dependsOn' then
      if jsonb_typeof(v_step -> 'dependsOn') <> 'array' then
        raise exception '%: "dependsOn" must be an array of step names', v_where using errcode = 'RF001';
      end if;
      for v_val in select e from jsonb_array_elements(v_step -> 'dependsOn') as e loop
        if jsonb_typeof(v_val) <> 'string' then
          raise exception '%: "dependsOn" must contain step names (strings), got %', v_where, left(v_val::text, 100)
            using errcode = 'RF001';
        end if;
        v_dep := v_val #>> '{}';
        if v_dep = v_sname then
          raise exception '%: a step cannot depend on itself; remove "%" from its dependsOn', v_where, v_sname
            using errcode = 'RF007';
        end if;
        if v_dep = any (v_deps) then
          raise exception '%: "dependsOn" lists "%" more than once', v_where, v_dep using errcode = 'RF001';
        end if;
        v_deps := v_deps || v_dep;
      end loop;
    end if;

    v_val := v_step -> 'attempts';
    if v_val is not null and (jsonb_typeof(v_val) <> 'number' or v_val::text !~ '^\d+$'
                              or v_val::text::numeric not between 1 and 1000) then
      raise exception '%: "attempts" must be an integer from 1 to 1000, got %', v_where, left(v_val::text, 100)
        using errcode = 'RF001';
    end if;
    v_val := v_step -> 'priority';
    if v_val is not null and (jsonb_typeof(v_val) <> 'number' or v_val::text !~ '^-?\d+$'
                              or v_val::text::numeric not between -1000 and 1000) then
      raise exception '%: "priority" must be an integer from -1000 to 1000, got %', v_where, left(v_val::text, 100)
        using errcode = 'RF001';
    end if;

    -- Backoff: default exponential, base 1s, max 5min, jitter 0.2.
    v_backoff := coalesce(v_step -> 'backoff', '{}');
    if jsonb_typeof(v_backoff) <> 'object' then
      raise exception '%: "backoff" must be an object like {"type": "exponential", "base": "1 second"}', v_where
        using errcode = 'RF001';
    end if;
    for v_key in select k from jsonb_object_keys(v_backoff) as k order by k loop
      if v_key not in ('type', 'base', 'max', 'jitter') then
        raise exception '%: unknown backoff option %; allowed: type, base, max, jitter', v_where,
          to_jsonb(left(v_key, 100))::text using errcode = 'RF002';
      end if;
    end loop;
    v_btype := coalesce(v_backoff ->> 'type', 'exponential');
    if v_backoff ? 'type' and (jsonb_typeof(v_backoff -> 'type') <> 'string' or v_btype not in ('fixed', 'exponential')) then
      raise exception '%: backoff.type must be "fixed" or "exponential", got %', v_where,
        left((v_backoff -> 'type')::text, 100) using errcode = 'RF001';
    end if;
    v_bbase := case when v_backoff ? 'base'
      then rowflow._parse_interval(v_backoff -> 'base', v_where || ': backoff.base') else interval '1 second' end;
    v_bmax := case when v_backoff ? 'max'
      then rowflow._parse_interval(v_backoff -> 'max', v_where || ': backoff.max') else greatest(interval '5 minutes', v_bbase) end;
    if v_bmax < v_bbase then
      raise exception '%: backoff.max (%) is less than backoff.base (%)', v_where, v_bmax, v_bbase using errcode = 'RF010';
    end if;
    v_val := v_backoff -> 'jitter';
    if v_val is not null and (jsonb_typeof(v_val) <> 'number' or v_val::text::numeric not between 0 and 1) then
      raise exception '%: backoff.jitter must be a number from 0 to 1, got %', v_where, left(v_val::text, 100)
        using errcode = 'RF001';
    end if;
    v_bjitter := coalesce(v_val::text::double precision, 0.2);

    if v_step ? 'timeout' and rowflow._parse_interval(v_step -> 'timeout', v_where || ': timeout') <= interval '0' then
      raise exception '%: timeout must be greater than zero', v_where using errcode = 'RF010';
    end if;
    if v_step ? 'delay' then
      perform rowflow._parse_interval(v_step -> 'delay', v_where || ': delay');
    end if;
    if v_step ? 'if' then
      perform rowflow._compile_path(v_step -> 'if', v_where || ': if');
    end if;

    -- Queue: "name" or {"name": …, "key": "<path>"}.
    v_queue := v_step -> 'queue';
    v_qname := null;
    v_qkey := null;
    if v_queue is not null then
      if jsonb_typeof(v_queue) = 'string' then
        v_qname := v_queue #>> '{}';
      elsif jsonb_typeof(v_queue) = 'object' then
        for v_key in select k from jsonb_object_keys(v_queue) as k order by k loop
          if v_key not in ('name', 'key') then
            raise exception '%: unknown queue option %; allowed: name, key', v_where, to_jsonb(left(v_key, 100))::text
              using errcode = 'RF002';
          end if;
        end loop;
        if jsonb_typeof(v_queue -> 'name') is distinct from 'string' then
          raise exception '%: queue.name is required and must be a string', v_where using errcode = 'RF001';
        end if;
        v_qname := v_queue ->> 'name';
        if v_queue ? 'key' then
          v_qkey := rowflow._compile_path(v_queue -> 'key', v_where || ': queue.key')::text;
        end if;
      else
        raise exception '%: "queue" must be a queue name or {"name": …, "key": "<path>"}', v_where using errcode = 'RF001';
      end if;
      if v_qname !~ c_queue_re then
        raise exception '%: invalid queue name %: use 1-63 characters A-Z, a-z, 0-9, "_", "." or "-"', v_where,
          to_jsonb(left(v_qname, 100))::text using errcode = 'RF004';
      end if;
    end if;

    v_norm := v_norm || jsonb_build_object(
      'idx', v_ord, 'name', v_sname, 'task', v_step ->> 'task', 'depends_on', to_jsonb(v_deps),
      'attempts', coalesce((v_step ->> 'attempts')::int, 3),
      'backoff_type', v_btype, 'backoff_base', v_bbase::text, 'backoff_max', v_bmax::text,
      'backoff_jitter', v_bjitter,
      'timeout', rowflow._parse_interval(v_step -> 'timeout', v_where || ': timeout')::text,
      'priority', coalesce((v_step ->> 'priority')::int, 0),
      'queue_name', v_qname, 'queue_key', v_qkey,
      'delay', rowflow._parse_interval(v_step -> 'delay', v_where || ': delay')::text,
      'if_path', case when v_step ? 'if' then rowflow._compile_path(v_step -> 'if', v_where || ': if')::text end,
      'compensate', v_step ->> 'compensate');
  end loop;

  -- PHASE 2: the graph: unknown dependencies, then cycles, in O(steps +
  -- dependencies): each step's position by name in one jsonb object (the
  -- scans this replaces made 1,000 steps take 12 s).
  v_at := (select pg_catalog.jsonb_object_agg(t.n, t.o) from unnest(v_names) with ordinality as t(n, o));
  select format('workflow "%s", step "%s": unknown dependency "%s"; known steps: %s',
                define_workflow.name, s.e ->> 'name', d.name, array_to_string(v_names, ', '))
  into v_where
  from unnest(v_norm) with ordinality as s(e, o),
       jsonb_array_elements_text(s.e -> 'depends_on') with ordinality as d(name, k)
  where not v_at ? d.name
  order by s.o, d.k
  limit 1;
  if found then
    raise exception '%', v_where using errcode = 'RF006';
  end if;

  -- Kahn: a step is done once all its dependencies are. The edges from each
  -- step to its dependents, as positions: v_to[v_first[u] .. + v_outdeg[u] - 1].
  with e as (
    select (v_at ->> d)::int as f, s.o::int as t
    from unnest(v_norm) with ordinality as s(e, o), jsonb_array_elements_text(s.e -> 'depends_on') as d
  ), c as (
    select g.i, count(e.f)::int as n from pg_catalog.generate_series(1, cardinality(v_names)) as g(i)
    left join e on e.f = g.i group by g.i
  )
  select array_agg(x.n order by x.i), array_agg(x.first order by x.i),
         (select coalesce(array_agg(e.t order by e.f, e.t), '{}') from e)
  into v_outdeg, v_first, v_to
  from (select c.i, c.n, (sum(c.n) over (order by c.i) - c.n + 1)::int as first from c) as x;
  v_indeg := array(select jsonb_array_length(e -> 'depends_on') from unnest(v_norm) as e);
  v_done := array_fill(false, array[cardinality(v_names)]);
  v_ready := array(select i from pg_catalog.generate_series(1, cardinality(v_names)) as i where v_indeg[i] = 0);
  while v_head <= cardinality(v_ready) loop
    v_u := v_ready[v_head];
    v_head := v_head + 1;
    v_done[v_u] := true;
    for k in v_first[v_u] .. v_first[v_u] + v_outdeg[v_u] - 1 loop
      v_v := v_to[k];
      v_indeg[v_v] := v_indeg[v_v] - 1;
      if v_indeg[v_v] = 0 then
        v_ready := v_ready || v_v;
      end if;
    end loop;
  end loop;
  if cardinality(v_ready) < cardinality(v_names) then
    -- Walk "depends on" edges inside the blocked set from its first step
    -- (spec order) until a step repeats; that stretch is a cycle.
    v_cur := v_names[array_position(v_done, false)];
    v_path := array[v_cur];
    loop
      select x.d into v_cur
      from jsonb_array_elements_text(v_norm[(v_at ->> v_cur)::int] -> 'depends_on') with ordinality as x(d, o)
      where not v_done[(v_at ->> x.d)::int]
      order by x.o limit 1;
      v_pos := array_position(v_path, v_cur);
      exit when v_pos is not null;
      v_path := v_path || v_cur;
    end loop;
    -- v_path[i] depends on v_path[i+1]; print in execution order.
    v_cycle := array[v_path[v_pos]];
    for i in reverse cardinality(v_path)..v_pos loop
      v_cycle := v_cycle || v_path[i];
    end loop;
    raise exception 'workflow "%": dependency cycle %; ("x -> y" means y depends on x) remove one of these dependsOn entries',
      define_workflow.name, array_to_string(v_cycle, ' -> ') using errcode = 'RF008';
  end if;

  -- PHASE 3: store: same spec as the latest version → that version, else a new one.
  insert into rowflow.workflows as w (name, latest_version, owner)
  values (define_workflow.name, 1, define_workflow.owner)
  on conflict do nothing;
  if found then
    v_version := 1;
  else
    select w.latest_version, w.owner into v_latest, v_owner from rowflow.workflows as w
    where w.name = define_workflow.name for update;
    select wv.spec into v_latest_spec from rowflow.workflow_versions as wv
    where wv.workflow = define_workflow.name and wv.version = v_latest;
    if v_latest_spec = define_workflow.spec then
      return v_latest;
    end if;
    if not pg_catalog.pg_has_role(define_workflow.owner, v_owner, 'USAGE') and not rowflow._trusted() then
      raise exception 'define_workflow: workflow "%" belongs to %; % may not define new versions of it',
        define_workflow.name, v_owner, define_workflow.owner using errcode = '42501',
        hint = pg_catalog.format('Define it as a member of %I, or choose another name.', v_owner);
    end if;
    v_version := v_latest + 1;
    update rowflow.workflows as w set latest_version = v_version, updated_at = now()
    where w.name = define_workflow.name;
  end if;

  insert into rowflow.workflow_versions (workflow, version, spec, spec_hash, on_failure, step_count)
  values (define_workflow.name, v_version, define_workflow.spec, md5(define_workflow.spec::text),
          define_workflow.spec ->> 'onFailure', cardinality(v_names));

  insert into rowflow.workflow_steps (workflow, version, idx, name, task, depends_on, dependents, n_deps,
    attempts, backoff_type, backoff_base, backoff_max, backoff_jitter, timeout, priority,
    queue_name, queue_key, delay, if_path, compensate)
  select define_workflow.name, v_version, (s ->> 'idx')::smallint, s ->> 'name', s ->> 'task',
    array(select jsonb_array_elements_text(s -> 'depends_on')),
    coalesce(dd.dependents, '{}'),
    jsonb_array_length(s -> 'depends_on'),
    (s ->> 'attempts')::smallint, s ->> 'backoff_type', (s ->> 'backoff_base')::interval,
    (s ->> 'backoff_max')::interval, (s ->> 'backoff_jitter')::double precision,
    (s ->> 'timeout')::interval, (s ->> 'priority')::smallint, s ->> 'queue_name',
    (s ->> 'queue_key')::jsonpath, (s ->> 'delay')::interval, (s ->> 'if_path')::jsonpath, s ->> 'compensate'
  from unnest(v_norm) as s
  left join (
    -- Each step's dependents, sorted so that the gate locks them in a fixed order.
    select d.name, array_agg(t.e ->> 'name' order by (t.e ->> 'name') collate "C") as dependents
    from unnest(v_norm) as t(e), jsonb_array_elements_text(t.e -> 'depends_on') as d(name)
    group by d.name
  ) as dd on dd.name = s ->> 'name';

  -- PHASE 4: the audit row of a new version (defining the same spec again,
  -- as every worker start does, returned above without one).
  perform rowflow._audit('define_workflow', define_workflow.name, null, null, null,
                         pg_catalog.jsonb_build_object('version', v_version, 'owner', define_workflow.owner,
                                                       'steps', cardinality(v_names)), null);
  return v_version;
end;
$$;
comment on function rowflow.define_workflow(text, jsonb, name) is
  'Validates and stores a workflow spec (RF001-RF010 on rejection). Returns the version: the latest one if the spec is identical to it, else a new one.';
select rowflow._allow('function rowflow.define_workflow(text, jsonb, name)', '{}');

-- from sql/schema/50_attach/_attach.sql
create or replace function rowflow._attach(
  relid oid, given text, workflow text, events text[], "when" text, input text, idempotency_key text,
  columns text[], exclude_columns text[], caller name)
returns int
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_rel pg_catalog.pg_class;
  v_events text[];
  v_pk text[];
  v_clash record;
  v_id int;
  v_fn text;
  v_event text;
  v_body text;
  v_table_tag text;
  v_whats text[] := '{}';
  v_exprs text[] := '{}';
  v_on text[] := '{}';
  v_queries text[] := '{}';
  v_missing text;
begin
  -- GUARD: the caller, the table and its ownership, workflow, events,
  -- column options, primary key.
  v_rel := rowflow._attachable_table(_attach.relid, _attach.given, 'attach', _attach.caller);
  if not exists (select 1 from rowflow.workflows as w where w.name = _attach.workflow) then
    raise exception 'attach: unknown workflow %', coalesce(pg_catalog.quote_literal(_attach.workflow), 'null')
      using errcode = 'RF020',
            hint = 'Define it first with rowflow.define_workflow(name, spec), in the same migration if you like.';
  end if;
  if _attach.events is null or cardinality(_attach.events) = 0
     or exists (select 1 from unnest(_attach.events) as e where e is null
                or pg_catalog.lower(e) not in ('insert', 'update', 'delete')) then
    raise exception 'attach: events must be a non-empty subset of {insert,update,delete}, got %',
      coalesce(_attach.events::text, 'null') using errcode = 'RF033';
  end if;
  v_events := array(select distinct pg_catalog.lower(e) from unnest(_attach.events) as e
                    order by 1);
  if cardinality(v_events) <> cardinality(_attach.events) then
    raise exception 'attach: events lists an event twice: %', _attach.events::text using errcode = 'RF033';
  end if;
  if _attach.columns is not null and _attach.exclude_columns is not null then
    raise exception 'attach: give columns or exclude_columns, not both' using errcode = 'RF034';
  end if;
  if coalesce(_attach.columns, _attach.exclude_columns) is not null and _attach.input is not null then
    raise exception 'attach: columns and exclude_columns shape the default input; with input, build it yourself'
      using errcode = 'RF034',
            hint = 'Drop input, or write it as e.g. jsonb_build_object(''id'', new.id, ''status'', new.status).';
  end if;
  select pg_catalog.string_agg(pg_catalog.quote_ident(c), ', ') into v_missing
  from unnest(coalesce(_attach.columns, _attach.exclude_columns)) as c
  where c is null or not exists (select 1 from pg_catalog.pg_attribute as a
                                 where a.attrelid = _attach.relid and a.attname = c and a.attnum > 0
                                   and not a.attisdropped);
  if v_missing is not null then
    raise exception 'attach: table % has no column %', _attach.relid::regclass, v_missing
      using errcode = 'RF034', hint = 'List columns of the table by name (case matters for quoted names).';
  end if;
  v_pk := array(
    select a.attname::text
    from pg_catalog.pg_index as i
    cross join lateral unnest(i.indkey) with ordinality as k(attnum, o)
    join pg_catalog.pg_attribute as a on a.attrelid = i.indrelid and a.attnum = k.attnum
    where i.indrelid = _attach.relid and i.indisprimary
    order by k.o);
  if cardinality(_attach.columns) = 0 and cardinality(v_pk) = 0 then
    raise exception 'attach: columns => ''{}'' makes the input the row''s key only, and table % has no primary key',
      _attach.relid::regclass using errcode = 'RF034',
      hint = 'Add a primary key, or list the columns the input should hold.';
  end if;
  if 'update' = any (v_events) and cardinality(v_pk) = 0 then
    raise exception 'attach: table % has no primary key; update attachments pair old and new rows by primary key',
      _attach.relid::regclass using errcode = 'RF032',
      hint = 'Add a primary key (alter table … add primary key (…)), or attach only insert/delete events.';
  end if;
  -- Serialise attach/detach on this table (CREATE TRIGGER takes this lock
  -- anyway; taking it first makes the overlap check below race-free).
  execute pg_catalog.format('lock table %s in share row exclusive mode', _attach.relid::regclass);
  perform rowflow._purge_stale_attachments();
  select a.id, a.events into v_clash
  from rowflow.table_attachments as a
  where a.relid = _attach.relid and a.workflow = _attach.workflow and a.events && v_events
  limit 1;
  if found then
    raise exception 'attach: workflow "%" is already attached to % for %', _attach.workflow,
      _attach.relid::regclass, array(select unnest(v_clash.events) intersect select unnest(v_events))::text
      using errcode = 'RF035',
            hint = 'Detach it first (select rowflow.detach(…)), or attach with events that do not overlap.';
  end if;

  -- PHASE 1: compile every expression, each alone (so the error names the
  -- option), for each event, before anything is created; as the table owner.
  foreach v_event in array v_events loop
    if _attach."when" is not null then
      v_whats := v_whats || 'when'::text; v_exprs := v_exprs || _attach."when"; v_on := v_on || v_event;
      v_queries := v_queries || rowflow._attachment_query(_attach.relid, v_event, v_pk, _attach."when", null, null);
    end if;
    if _attach.input is not null then
      v_whats := v_whats || 'input'::text; v_exprs := v_exprs || _attach.input; v_on := v_on || v_event;
      v_queries := v_queries || rowflow._attachment_query(_attach.relid, v_event, v_pk, null, _attach.input, null);
    end if;
    if _attach.idempotency_key is not null then
      v_whats := v_whats || 'idempotency_key'::text; v_exprs := v_exprs || _attach.idempotency_key;
      v_on := v_on || v_event;
      v_queries := v_queries || rowflow._attachment_query(_attach.relid, v_event, v_pk, null, null,
                                                          _attach.idempotency_key);
    end if;
    v_whats := v_whats || 'combined'::text; v_on := v_on || v_event;
    v_exprs := v_exprs || concat_ws(' / ', _attach."when", _attach.input, _attach.idempotency_key);
    v_queries := v_queries || rowflow._attachment_query(_attach.relid, v_event, v_pk, _attach."when", _attach.input,
                                                        _attach.idempotency_key, null, _attach.columns,
                                                        _attach.exclude_columns);
  end loop;
  perform rowflow._check_attachment_queries(v_rel.relowner, v_whats, v_exprs, v_on, v_queries);

  -- PHASE 2: the attachment row (its id makes the function name unique).
  -- Function name: tg_<table>__<workflow>_<id>, each part reduced to
  -- [a-z0-9_] and cut to 22 characters (hostile or unicode table names only
  -- lose readability, never uniqueness).
  v_table_tag := coalesce(nullif(left(pg_catalog.regexp_replace(pg_catalog.lower(v_rel.relname::text),
                   '[^a-z0-9_]+', '_', 'g'), 22), ''), 't');
  insert into rowflow.table_attachments (relid, workflow, events, when_sql, input_sql, key_sql, columns,
                                         exclude_columns, function_name, created_by)
  values (_attach.relid, _attach.workflow, v_events, _attach."when", _attach.input, _attach.idempotency_key,
          _attach.columns, _attach.exclude_columns, 'tg_pending', _attach.caller)
  returning id into v_id;
  v_fn := 'tg_' || v_table_tag || '__' || left(pg_catalog.replace(_attach.workflow, '-', '_'), 22) || '_' || v_id;
  update rowflow.table_attachments as a set function_name = v_fn where a.id = v_id;

  -- PHASE 3: the trigger function (the table owner's) and the start function.
  perform rowflow._install_attachment(v_id);

  -- PHASE 4: one statement-level AFTER trigger per event. The _900_ prefix
  -- makes them fire after the table's other AFTER statement triggers
  -- (Postgres fires triggers of one kind in name order).
  foreach v_event in array v_events loop
    execute pg_catalog.format(
      'create trigger %I after %s on %s referencing %s for each statement execute function rowflow.%I()',
      '_900_rowflow_' || left(_attach.workflow, 30) || '_' || v_event || '_' || v_id,
      v_event, _attach.relid::regclass,
      case v_event when 'insert' then 'new table as rf_new'
                   when 'update' then 'new table as rf_new old table as rf_old'
                   else 'old table as rf_old' end,
      v_fn);
  end loop;
  perform rowflow._audit('attach', _attach.workflow, null, null, null,
                         pg_catalog.jsonb_build_object('attachment', v_id, 'table', _attach.relid::regclass::text,
                                                       'events', v_events, 'when', _attach."when",
                                                       'caller', _attach.caller), null);
  return v_id;
end;
$$;
select rowflow._allow('function rowflow._attach(oid, text, text, text[], text, text, text, text[], text[], name)', '{}');

-- from sql/schema/50_attach/_detach.sql
create or replace function rowflow._detach(relid oid, given text, workflow text, caller name)
returns int
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_row record;
  v_count int := 0;
begin
  -- GUARD: table and ownership; serialise with attach.
  perform rowflow._attachable_table(_detach.relid, _detach.given, 'detach', _detach.caller);
  execute pg_catalog.format('lock table %s in share row exclusive mode', _detach.relid::regclass);
  perform rowflow._purge_stale_attachments();

  -- PHASE 1: drop the triggers, the function and the row of each attachment.
  -- Runs already started are not touched.
  for v_row in
    select a.id, a.function_name from rowflow.table_attachments as a
    where a.relid = _detach.relid and a.workflow = _detach.workflow
    order by a.id
  loop
    execute pg_catalog.format('drop function rowflow.%I() cascade', v_row.function_name);
    execute pg_catalog.format('drop function if exists rowflow.%I(jsonb[], text[])',
                              'st_' || substr(v_row.function_name, 4));
    delete from rowflow.table_attachments as a where a.id = v_row.id;
    v_count := v_count + 1;
  end loop;
  if v_count = 0 then
    raise exception 'detach: workflow % is not attached to %',
      coalesce(pg_catalog.quote_literal(_detach.workflow), 'null'), _detach.relid::regclass
      using errcode = 'RF037', hint = 'See select * from rowflow.attachments;';
  end if;
  perform rowflow._audit('detach', _detach.workflow, null, null, null,
                         pg_catalog.jsonb_build_object('table', _detach.relid::regclass::text, 'removed', v_count,
                                                       'caller', _detach.caller), null);
  return v_count;
end;
$$;
select rowflow._allow('function rowflow._detach(oid, text, text, name)', '{}');

-- from sql/schema/60_gate/_build_chain.sql
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

-- from sql/schema/60_gate/_finish_runs.sql
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
    returning r.id, r.status, r.error
  ), ev as (
    insert into rowflow.events (run_id, type, data, at)
    select f.id, case f.status when 'failed' then 'run_failed' else 'run_cancelled' end, f.error, _finish_runs.now
    from f where f.status in ('failed', 'cancelled')
  )
  select r.id, coalesce(f.status, r.status)
  from rowflow.runs as r left join f on f.id = r.id
  where r.id = any (_finish_runs.run_ids);
end;
$$;
comment on function rowflow._finish_runs(bigint[], timestamptz) is
  'Internal: ends the given runs that have nothing left (succeeded, or failed after compensation); returns each run''s status.';
select rowflow._allow('function rowflow._finish_runs(bigint[], timestamptz)', '{}');

-- from sql/schema/60_gate/cancel_run.sql
create or replace function rowflow.cancel_run(run_id bigint, reason text default null, now timestamptz default null,
  compensate boolean default false)
returns boolean
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(cancel_run.now, pg_catalog.statement_timestamp());
  v_run rowflow.runs;
  v_chain int := 0;
  v_error jsonb;
  v_from text;
begin
  -- GUARD: an operator, or the app that started the run; lock the run;
  -- only a queued or active run can be cancelled.
  perform rowflow._require('{operator,app}');
  select r.* into v_run from rowflow.runs as r where r.id = cancel_run.run_id for no key update;
  if not found then
    raise exception 'unknown run %', cancel_run.run_id using errcode = 'RF023';
  end if;
  if v_run.started_by is distinct from session_user::text and not rowflow._trusted()
     and not pg_catalog.pg_has_role(session_user, rowflow._role('operator'), 'MEMBER') then
    raise exception 'permission denied: run % was not started by %', v_run.id, session_user
      using errcode = '42501', hint = 'Operators (rowflow_operator) cancel any run; an app cancels its own.';
  end if;
  if v_run.status not in ('queued', 'running', 'compensating')
     or (coalesce(cancel_run.compensate, false) and v_run.status = 'compensating') then
    return false;
  end if;
  v_from := v_run.status;
  -- PHASE 1: cancel every unfinished step run (a compensation chain too,
  -- unless it is to run now) and remove the queued jobs.
  perform rowflow._cancel_steps(v_run.id, array['step', 'compensation', 'on_failure'],
                                coalesce(cancel_run.reason, 'run cancelled'), v_now);
  -- PHASE 2: with compensate, the chain of what succeeded; the run is
  -- 'compensating' while it runs.
  if coalesce(cancel_run.compensate, false) and v_run.status = 'running' then
    v_chain := rowflow._build_chain(v_run, false, v_now);
  end if;
  if v_chain > 0 then
    v_error := jsonb_build_object('cancelled', true, 'reason', cancel_run.reason);
    update rowflow.runs as r
    set status = 'compensating', error = v_error, updated_at = v_now
    where r.id = v_run.id
    returning r.* into v_run;
    insert into rowflow.events (run_id, type, data, at)
    values (v_run.id, 'run_compensating', v_error, v_now);
    perform rowflow._advance_chain_step(v_run, v_now);
  else
    update rowflow.runs as r
    set status = 'cancelled', updated_at = v_now, finished_at = v_now
    where r.id = v_run.id;
    insert into rowflow.events (run_id, type, data, at)
    values (v_run.id, 'run_cancelled', jsonb_build_object('reason', cancel_run.reason, 'from', v_from), v_now);
  end if;
  perform rowflow._audit('cancel_run', v_run.workflow, v_run.id, null, cancel_run.reason,
                         jsonb_build_object('from', v_from, 'compensate', coalesce(cancel_run.compensate, false),
                                            'compensations', v_chain), v_now);
  perform rowflow._notify(jsonb_build_object('run', v_run.id));
  return true;
end;
$$;
comment on function rowflow.cancel_run(bigint, text, timestamptz, boolean) is
  'Cancels an active run: unfinished step runs cancelled, their queued jobs removed; with compensate, the succeeded steps are undone first (compensating, then cancelled). False if the run already ended; RF023 if unknown.';
select rowflow._allow('function rowflow.cancel_run(bigint, text, timestamptz, boolean)', '{operator,app}');

-- from sql/schema/60_gate/fail_step.sql
create or replace function rowflow._fail_attempt(run_id bigint, step text, attempt int, error jsonb,
  retryable boolean, retry_at timestamptz, now timestamptz)
returns jsonb
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(_fail_attempt.now, pg_catalog.statement_timestamp());
  v_run rowflow.runs;
  v_sr rowflow.step_runs;
  v_ws rowflow.workflow_steps;
  v_delay interval;
  v_retry_at timestamptz;
  v_ids bigint[];
  v_status text;
  v_error jsonb;
  v_chain int := 0;
begin
  -- GUARD: lock order run → step; only the running attempt may fail.
  select r.* into v_run from rowflow.runs as r where r.id = _fail_attempt.run_id for no key update;
  select sr.* into v_sr from rowflow.step_runs as sr
  where sr.run_id = _fail_attempt.run_id and sr.step = _fail_attempt.step
    and sr.status = 'running' and sr.attempt = _fail_attempt.attempt
    and v_run.status in ('running', 'compensating');
  if not found then
    return (select f.refusal from rowflow._refusals(array[_fail_attempt.run_id], array[_fail_attempt.step],
                                                    array[_fail_attempt.attempt], array[1], array['running']) as f);
  end if;
  -- The retry policy: the step's own; a compensation uses the policy of the
  -- step it undoes; on-failure uses the defaults.
  select ws.* into v_ws from rowflow.workflow_steps as ws
  where ws.workflow = v_run.workflow and ws.version = v_run.version
    and ws.name = case v_sr.kind when 'step' then v_sr.step
                                 when 'compensation' then substr(v_sr.step, length('compensate:') + 1) end;

  -- PHASE 1: another attempt, if allowed (a new job).
  if coalesce(_fail_attempt.retryable, true) and v_sr.attempt < v_sr.max_attempts then
    v_delay := case coalesce(v_ws.backoff_type, 'exponential')
      when 'fixed' then coalesce(v_ws.backoff_base, interval '1 second')
      else least(coalesce(v_ws.backoff_base, interval '1 second') * power(2, least(v_sr.attempt - 1, 40)),
                 coalesce(v_ws.backoff_max, interval '5 minutes'))
    end;
    -- jitter j spreads the delay uniformly over [d·(1-j), d·(1+j)], capped at max.
    v_delay := least(v_delay * (1 - coalesce(v_ws.backoff_jitter, 0.2) * (2 * random() - 1)),
                     greatest(coalesce(v_ws.backoff_max, interval '5 minutes'), v_delay));
    v_retry_at := coalesce(_fail_attempt.retry_at, v_now + v_delay);
    v_ids := rowflow._add_step_jobs(array[row(v_sr.run_id, v_sr.step, v_sr.attempt + 1,
      rowflow._queue_name(v_ws.queue_name, v_ws.queue_key, jsonb_build_object('input', v_run.input,
        'steps', case when v_sr.kind = 'step' then rowflow._deps_outputs(v_sr.run_id, v_ws.depends_on) else '{}' end)),
      v_retry_at, coalesce(v_ws.priority, 0) + v_run.priority)::rowflow.step_job]);
    update rowflow.step_runs as sr
    set status = 'queued', attempt = sr.attempt + 1, error = _fail_attempt.error, job_id = v_ids[1], started_at = null,
        locked_by = null
    where sr.run_id = v_sr.run_id and sr.step = v_sr.step;
    insert into rowflow.events (run_id, step, type, attempt, data, at)
    values (v_sr.run_id, v_sr.step, 'step_retrying', v_sr.attempt,
            jsonb_build_object('error', _fail_attempt.error, 'retryAt', v_retry_at, 'nextAttempt', v_sr.attempt + 1,
                               'startedAt', v_sr.started_at), v_now);
    update rowflow.runs as r set updated_at = v_now where r.id = v_run.id;
    perform rowflow._notify(jsonb_build_object('run', v_run.id));
    return jsonb_build_object('ok', true, 'outcome', 'retrying', 'retryAt', v_retry_at,
                              'nextAttempt', v_sr.attempt + 1, 'runStatus', v_run.status);
  end if;

  -- PHASE 2: the step failed for good.
  update rowflow.step_runs as sr
  set status = 'failed', error = _fail_attempt.error, finished_at = v_now, locked_by = null
  where sr.run_id = v_sr.run_id and sr.step = v_sr.step;
  insert into rowflow.events (run_id, step, type, attempt, data, at)
  values (v_sr.run_id, v_sr.step, 'step_failed', v_sr.attempt,
          jsonb_build_object('error', _fail_attempt.error, 'retryable', coalesce(_fail_attempt.retryable, true),
                             'startedAt', v_sr.started_at), v_now);
  v_status := v_run.status;
  v_error := v_run.error;

  if v_sr.kind = 'step' then
    -- PHASE 3: the run fails: cancel the other steps (those without a row
    -- too), then build the compensation chain (reverse completion order),
    -- on-failure last.
    perform rowflow._cancel_steps(v_run.id, array['step'], 'run failed', v_now);
    v_error := jsonb_build_object('step', v_sr.step, 'attempt', v_sr.attempt, 'error', _fail_attempt.error);
    v_chain := rowflow._build_chain(v_run, true, v_now);
    if v_chain > 0 then
      v_status := 'compensating';
      insert into rowflow.events (run_id, type, data, at)
      values (v_run.id, 'run_compensating', v_error, v_now);
    else
      v_status := 'failed';
      insert into rowflow.events (run_id, type, data, at)
      values (v_run.id, 'run_failed', v_error, v_now);
    end if;
    -- runs.status must be written before the chain helpers read it.
    update rowflow.runs as r set status = v_status, error = v_error, updated_at = v_now,
      finished_at = case when v_status = 'failed' then v_now end
    where r.id = v_run.id
    returning r.* into v_run;
  end if;

  -- PHASE 4: next link of the chain (first one, or the one after this failed
  -- compensation: the chain continues past a failed link), then finish.
  if v_status = 'compensating' then
    perform rowflow._advance_chain_step(v_run, v_now);
    select f.status into v_status from rowflow._finish_runs(array[v_run.id], v_now) as f;
  end if;
  perform rowflow._notify(jsonb_build_object('run', v_run.id));
  return jsonb_build_object('ok', true, 'outcome', 'failed', 'runStatus', v_status);
end;
$$;
select rowflow._allow('function rowflow._fail_attempt(bigint, text, int, jsonb, boolean, timestamptz, timestamptz)', '{}');

-- from sql/schema/85_operate/_audit.sql
create or replace function rowflow._audit(action text, workflow text, run_id bigint, step text, reason text,
  data jsonb, now timestamptz)
returns void
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_role text := pg_catalog.current_setting('role', true);
begin
  insert into rowflow.audit (at, action, workflow, run_id, step, reason, data, session_user_name, set_role,
                             application_name, client_addr)
  values (coalesce(_audit.now, pg_catalog.statement_timestamp()), _audit.action, _audit.workflow, _audit.run_id,
          _audit.step, coalesce(_audit.reason, nullif(pg_catalog.current_setting('rowflow.reason', true), '')),
          _audit.data, session_user,
          case when v_role is null or v_role = 'none' then null else v_role end,
          nullif(pg_catalog.current_setting('application_name', true), ''),
          pg_catalog.inet_client_addr());
end;
$$;
comment on function rowflow._audit(text, text, bigint, text, text, jsonb, timestamptz) is
  'Internal: one rowflow.audit row for an operator action, with the acting session''s identity.';
select rowflow._allow('function rowflow._audit(text, text, bigint, text, text, jsonb, timestamptz)', '{}');

-- from sql/schema/85_operate/bulk.sql
create or replace function rowflow.cancel_runs(workflow text, statuses text[] default '{queued,running}',
  since timestamptz default null, before timestamptz default null, reason text default null,
  max_runs int default 1000, now timestamptz default null, compensate boolean default false)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_id bigint;
  v_matched int := 0;
  v_changed int := 0;
begin
  perform rowflow._require('{operator}');
  if cancel_runs.statuses is null or cardinality(cancel_runs.statuses) = 0
     or exists (select 1 from unnest(cancel_runs.statuses) as s
                where s is null or s not in ('queued', 'running', 'compensating')) then
    raise exception 'cancel_runs: statuses must be some of queued, running, compensating, got %',
      coalesce(cancel_runs.statuses::text, 'null') using errcode = 'RF043';
  end if;
  for v_id in select b from rowflow._bulk_runs(cancel_runs.workflow, cancel_runs.statuses, cancel_runs.since,
                                                cancel_runs.before, cancel_runs.max_runs) as b loop
    v_matched := v_matched + 1;
    if rowflow.cancel_run(v_id, cancel_runs.reason, cancel_runs.now, cancel_runs.compensate) then
      v_changed := v_changed + 1;
    end if;
  end loop;
  return pg_catalog.jsonb_build_object('matched', v_matched, 'cancelled', v_changed,
                                       'unchanged', v_matched - v_changed);
end;
$$;
comment on function rowflow.cancel_runs(text, text[], timestamptz, timestamptz, text, int, timestamptz, boolean) is
  'cancel_run over a filter (workflow, queued/running/compensating statuses, created in [since, before)), at most max_runs per call; answers counts.';
select rowflow._allow('function rowflow.cancel_runs(text, text[], timestamptz, timestamptz, text, int, timestamptz, boolean)', '{operator}');
