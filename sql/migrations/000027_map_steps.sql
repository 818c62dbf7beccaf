-- 000027_map_steps.sql — map steps (issue #20, item 1).
--
-- A step with "map": "<path>" runs its task once per element of an array
-- from the run input or a dependency's output (docs/spec.md, Map steps).
-- The elements are rows of rowflow.step_runs (kind 'element', named
-- '<step>[<index>]', seq = the index, the new column `input` = the
-- element), so every gate path a step already has (begin, complete, fail,
-- retries, timeouts, leases lost with a worker, cancel) applies to them
-- unchanged; a new table rowflow.step_maps counts a map step's open
-- elements so that each completion decides in O(1) whether it was the
-- last. The map functions live in sql/schema/62_map/ and are called from
-- one place in each gate (_claim and _release when a map step becomes
-- ready, complete_steps when elements succeed, _fail_attempt when one
-- fails for good). All elements of a gate call, with their graphile jobs,
-- are written by one INSERT … SELECT; a map of 10,000 elements is created
-- by one _map_start call (test/sql/map/).
--
-- The table changes are additive: two nullable columns of
-- workflow_steps (map_path, map_errors) with a CHECK that every existing
-- row (both null) satisfies, one nullable column of step_runs, and the
-- step kind 'element' in rowflow._check_step_run.

alter table rowflow.workflow_steps add column map_path jsonpath;
alter table rowflow.workflow_steps add column map_errors text;
alter table rowflow.workflow_steps add constraint map_errors_is_valid
  check ((map_path is null and map_errors is null) or (map_path is not null and map_errors in ('fail', 'collect')));
comment on column rowflow.workflow_steps.map_path is
  'A map step''s "map": the SQL/JSON path (over {"input", "steps"}) of the array whose elements each get a step run of kind element (sql/schema/62_map/_map_start.sql); null for other steps.';
alter table rowflow.step_runs add column input jsonb;
comment on column rowflow.step_runs.input is
  'A map element''s input (kind element): its element of the map step''s array; null for every other kind (their input is the run''s).';

-- from sql/schema/20_tables/21_step_runs.sql
create or replace function rowflow._check_step_run(kind text, status text, deps_remaining smallint, attempt smallint,
  max_attempts smallint, seq smallint, started_at timestamptz, finished_at timestamptz, locked_by text)
returns boolean
language plpgsql immutable
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_rule text;
begin
  v_rule := case
    when _check_step_run.kind is null or _check_step_run.kind not in ('step', 'compensation', 'on_failure', 'element')
      then 'kind_is_valid'
    when _check_step_run.status is null or _check_step_run.status not in
         ('pending', 'queued', 'running', 'succeeded', 'failed', 'skipped', 'cancelled')
      then 'status_is_valid'
    when (_check_step_run.status in ('succeeded', 'failed', 'skipped', 'cancelled'))
         <> (_check_step_run.finished_at is not null)
      then 'finished_at_matches_status'
    when _check_step_run.status in ('running', 'succeeded', 'failed') and _check_step_run.started_at is null
      then 'started_at_matches_status'
    when not (_check_step_run.attempt between 0 and _check_step_run.max_attempts)
      or (_check_step_run.status in ('queued', 'running') and _check_step_run.attempt < 1)
      then 'attempt_is_valid'
    when _check_step_run.deps_remaining < 0
      or (_check_step_run.status not in ('pending', 'cancelled') and _check_step_run.deps_remaining <> 0)
      then 'deps_done_unless_pending'
    when (_check_step_run.kind = 'step') <> (_check_step_run.seq is null)
      then 'seq_matches_kind'
    when _check_step_run.locked_by is not null and _check_step_run.status not in ('queued', 'running')
      then 'locked_only_when_queued_or_running'
  end;
  if v_rule is not null then
    raise exception 'rowflow.step_runs: rule % violated (kind %, status %)', v_rule,
      coalesce(_check_step_run.kind, 'null'), coalesce(_check_step_run.status, 'null')
      using errcode = '23514', schema = 'rowflow', table = 'step_runs', constraint = v_rule;
  end if;
  return true;
end;
$$;
comment on function rowflow._check_step_run(text, text, smallint, smallint, smallint, smallint, timestamptz, timestamptz, text) is
  'The state rules of rowflow.step_runs (its CHECK step_run_is_valid); raises 23514 naming the rule.';
select rowflow._allow('function rowflow._check_step_run(text, text, smallint, smallint, smallint, smallint, timestamptz, timestamptz, text)', '{}');

-- from sql/schema/20_tables/26_step_maps.sql
create table rowflow.step_maps (
  run_id     bigint not null,
  step       text not null,               -- the map step (its row in step_runs, kind 'step')
  total      int not null,                -- elements created
  open       int not null,                -- elements not finished yet
  failed     int not null default 0,      -- elements failed for good
  created_at timestamptz not null,
  primary key (run_id, step),
  constraint counts_are_valid check (open between 0 and total and failed between 0 and total)
);
comment on table rowflow.step_maps is
  'Map steps of runs whose elements exist: how many, how many are still open, how many failed (sql/schema/62_map/). The elements are rowflow.step_runs rows of kind element.';
select rowflow._allow('table rowflow.step_maps', '{viewer}');

-- from sql/schema/25_views/run_steps.sql (with 000026's child_run_id: this migration was written against 000023)
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

-- from sql/schema/25_views/visible_runs.sql
create or replace view rowflow.visible_run_steps with (security_barrier) as
select s.*
from rowflow.run_steps as s
where (select rowflow._may('viewer'))
   or exists (select 1 from rowflow.runs as r where r.id = s.run_id and r.started_by = session_user);
comment on view rowflow.visible_run_steps is
  'The step runs (rowflow.run_steps) of the runs rowflow.visible_runs shows.';
select rowflow._allow('view rowflow.visible_run_steps', '{app,operator,viewer}');

-- from sql/schema/30_define/_compile_map.sql
create or replace function rowflow._compile_map(step jsonb, deps text[], what text)
returns jsonb
language plpgsql immutable
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_path jsonpath;
  v_m text[];
  v_dep text;
  v_bad text;
begin
  if not _compile_map.step ? 'map' then
    if _compile_map.step ? 'mapErrors' then
      raise exception '%: "mapErrors" needs "map" (the array the step runs over)', _compile_map.what
        using errcode = 'RF001';
    end if;
    return null;
  end if;
  v_path := rowflow._compile_path(_compile_map.step -> 'map', _compile_map.what || ': map');
  if _compile_map.step ? 'mapErrors' and (jsonb_typeof(_compile_map.step -> 'mapErrors') is distinct from 'string'
                                          or _compile_map.step ->> 'mapErrors' not in ('fail', 'collect')) then
    raise exception '%: "mapErrors" must be "fail" or "collect", got %', _compile_map.what,
      left((_compile_map.step -> 'mapErrors')::text, 100) using errcode = 'RF001';
  end if;
  -- Where the path starts: $.input, or $.steps.<name> (plain or quoted).
  v_m := regexp_match(_compile_map.step ->> 'map',
    '^\s*(?:(?:lax|strict)\s+)?\$\s*\.\s*(?:(input)\M|steps\s*\.\s*(?:"((?:[^"\\]|\\.)*)"|([A-Za-z_][A-Za-z0-9_-]*)))');
  if v_m is null then
    raise exception '%: map must be a path into the run input or a dependency''s output ("$.input.…" or "$.steps.<dependency>.…"), got %',
      _compile_map.what, left((_compile_map.step -> 'map')::text, 200) using errcode = 'RF009';
  end if;
  if v_m[1] is null then
    v_dep := coalesce(replace(v_m[2], '\"', '"'), v_m[3]);
    if not v_dep = any (coalesce(_compile_map.deps, '{}')) then
      raise exception '%: map reads the output of step "%", which is not in its dependsOn; add "%" to dependsOn or map over a dependency''s output',
        _compile_map.what, v_dep, v_dep using errcode = 'RF013';
    end if;
  end if;
  v_bad := (select string_agg(k, ', ' order by k) from unnest(array['queue', 'delay', 'startAt', 'wait', 'human', 'waitFor']) as k
            where _compile_map.step ? k);
  if v_bad is not null then
    raise exception '%: a map step cannot have %: its elements are queued as soon as it is ready', _compile_map.what, v_bad
      using errcode = 'RF001';
  end if;
  return pg_catalog.jsonb_build_object('path', v_path::text, 'errors', coalesce(_compile_map.step ->> 'mapErrors', 'fail'));
end;
$$;
comment on function rowflow._compile_map(jsonb, text[], text) is
  'Internal: compiles a step''s "map" and "mapErrors" (RF001, RF009, RF013); null for a step without "map".';
select rowflow._allow('function rowflow._compile_map(jsonb, text[], text)', '{}');

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
  v_wait jsonb;
  v_task text;
  v_map jsonb;
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
                       'queue', 'delay', 'if', 'compensate', 'startAt', 'wait', 'human', 'waitFor', 'map', 'mapErrors') then
        raise exception '%: unknown option %; allowed: name, task, dependsOn, attempts, backoff, timeout, priority, queue, delay, if, compensate, startAt, wait, human, waitFor, map, mapErrors',
          v_where, to_jsonb(left(v_key, 100))::text using errcode = 'RF002';
      end if;
    end loop;
    if v_sname = any (v_names) then
      raise exception 'workflow "%": duplicate step name "%"; step names must be unique', define_workflow.name, v_sname
        using errcode = 'RF005';
    end if;
    v_names := v_names || v_sname;

    -- A wait step ("wait", "human", "waitFor") has no task: _compile_wait
    -- rejects one, and its compiled task is '(wait)' / '(human)' /
    -- '(waitFor)', which no handler can be named (task names start with a letter).
    v_wait := null;
    if v_step ?| array['wait', 'human', 'waitFor'] then
      v_wait := rowflow._compile_wait(v_step, v_where, define_workflow.owner);
      v_task := '(' || case when v_step ? 'wait' then 'wait' when v_step ? 'human' then 'human' else 'waitFor' end || ')';
    elsif jsonb_typeof(v_step -> 'task') is distinct from 'string' then
      raise exception '%: "task" is required and must be a string', v_where using errcode = 'RF001',
        hint = 'A step runs a task, or waits: "wait" for a signal, "human" for a person, "waitFor" for a row.';
    else
      v_task := v_step ->> 'task';
    end if;
    if v_wait is null and (v_step ->> 'task') !~ c_task_re then
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
    if v_wait is null and v_step ? 'startAt' then
      v_wait := rowflow._compile_wait(v_step, v_where, define_workflow.owner);
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

    -- Map: the array the step runs over (sql/schema/30_define/_compile_map.sql).
    v_map := rowflow._compile_map(v_step, v_deps, v_where);

    v_norm := v_norm || jsonb_build_object(
      'map_path', v_map ->> 'path', 'map_errors', v_map ->> 'errors',
      'idx', v_ord, 'name', v_sname, 'task', v_task, 'depends_on', to_jsonb(v_deps), 'wait', v_wait,
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
    queue_name, queue_key, delay, if_path, compensate, wait, map_path, map_errors)
  select define_workflow.name, v_version, (s ->> 'idx')::smallint, s ->> 'name', s ->> 'task',
    array(select jsonb_array_elements_text(s -> 'depends_on')),
    coalesce(dd.dependents, '{}'),
    jsonb_array_length(s -> 'depends_on'),
    (s ->> 'attempts')::smallint, s ->> 'backoff_type', (s ->> 'backoff_base')::interval,
    (s ->> 'backoff_max')::interval, (s ->> 'backoff_jitter')::double precision,
    (s ->> 'timeout')::interval, (s ->> 'priority')::smallint, s ->> 'queue_name',
    (s ->> 'queue_key')::jsonpath, (s ->> 'delay')::interval, (s ->> 'if_path')::jsonpath, s ->> 'compensate',
    case when jsonb_typeof(s -> 'wait') = 'object' then s -> 'wait' end,
    (s ->> 'map_path')::jsonpath, s ->> 'map_errors'
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

-- from sql/schema/60_gate/_begin.sql
create or replace function rowflow._begin(run_ids bigint[], steps text[], attempts int[], os int[], worker_id text,
  now timestamptz, reserved boolean, key bytea, check_jobs boolean default false)
returns jsonb
language plpgsql
set search_path to ''
set plan_cache_mode to force_generic_plan
set enable_seqscan to off
set enable_hashjoin to off
set enable_mergejoin to off
set jit to off
as $$
#variable_conflict use_column
declare
  v_n int := coalesce(cardinality(_begin.run_ids), 0);
  v_begun rowflow.begun_step[];
  v_again rowflow.begun_step[];
  v_os int[];
  v_results jsonb;
begin
  -- A worker's reserved steps (always workflow steps: chain links are jobs)
  -- begin in one statement, contexts included.
  if _begin.reserved then
    with c as (
      select * from unnest(_begin.run_ids, _begin.steps, _begin.attempts, _begin.os) as c(run_id, step, attempt, o)
    ), u as (
      update rowflow.step_runs as sr set status = 'running', started_at = _begin.now
      from c
      where sr.run_id = c.run_id and sr.step = c.step and sr.attempt = c.attempt and sr.status = 'queued'
        and sr.locked_by = _begin.worker_id
        and exists (select 1 from rowflow.runs as r where r.id = c.run_id and r.status in ('running', 'compensating'))
      returning c.o, sr.run_id, sr.step, sr.kind, sr.attempt, sr.max_attempts
    )
    select coalesce(array_agg(u.o), '{}'), coalesce(pg_catalog.jsonb_object_agg(u.o::text, pg_catalog.jsonb_build_object(
             'ok', true, 'runId', u.run_id::text, 'step', u.step, 'task', ws.task,
             'workflow', r.workflow, 'version', r.version, 'input', r.input,
             'deps', (select coalesce(pg_catalog.jsonb_object_agg(o.step, o.output), '{}'::jsonb)
                      from rowflow.step_runs as o where o.run_id = u.run_id and o.step = any (ws.depends_on)),
             'attempt', u.attempt, 'maxAttempts', u.max_attempts,
             'timeoutMs', (extract(epoch from ws.timeout) * 1000)::bigint,
             'idempotencyKey', 'rowflow:' || u.run_id || ':' || u.step,
             'kind', u.kind, 'runError', r.error,
             'lease', rowflow._lease(_begin.key, u.run_id, u.step, u.attempt))), '{}')
    into v_os, v_results
    from u
    join rowflow.runs as r on r.id = u.run_id
    join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = u.step;
  else

  -- PHASE 1: queued attempts become running.
  with c as (
    select * from unnest(_begin.run_ids, _begin.steps, _begin.attempts, _begin.os) as c(run_id, step, attempt, o)
  ), u as (
    update rowflow.step_runs as sr set status = 'running', started_at = _begin.now
    from c
    where sr.run_id = c.run_id and sr.step = c.step and sr.attempt = c.attempt and sr.status = 'queued'
      and sr.locked_by is null
      and exists (select 1 from rowflow.runs as r where r.id = c.run_id and r.status in ('running', 'compensating'))
      and (not _begin.check_jobs or exists (select 1 from graphile_worker._private_jobs as j
                                            where j.id = sr.job_id and j.locked_by = _begin.worker_id))
    returning c.o, sr.run_id, sr.step, sr.kind, sr.attempt, sr.max_attempts
  )
  select coalesce(array_agg(row(u.o, u.run_id, u.step, u.kind, u.attempt, u.max_attempts)::rowflow.begun_step), '{}')
  into v_begun
  from u;

  -- PHASE 2: re-deliveries of graphile jobs (rare): running with the same attempt.
  if cardinality(v_begun) < v_n then
    select coalesce(array_agg(row(c.o, sr.run_id, sr.step, sr.kind, sr.attempt, sr.max_attempts)::rowflow.begun_step), '{}')
    into v_again
    from unnest(_begin.run_ids, _begin.steps, _begin.attempts, _begin.os) as c(run_id, step, attempt, o)
    join rowflow.step_runs as sr on sr.run_id = c.run_id and sr.step = c.step and sr.attempt = c.attempt
    join rowflow.runs as r on r.id = c.run_id
    where sr.status = 'running' and sr.locked_by is null and r.status in ('running', 'compensating')
      and (not _begin.check_jobs or exists (select 1 from graphile_worker._private_jobs as j
                                            where j.id = sr.job_id and j.locked_by = _begin.worker_id))
      and not c.o = any (array(select b.o from unnest(v_begun) as b));
    if cardinality(v_again) > 0 then
      insert into rowflow.events (run_id, step, type, attempt, data, at)
      select b.run_id, b.step, 'step_started', b.attempt,
             pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('workerId', _begin.worker_id,
                                                                        'redelivery', true)), _begin.now
      from unnest(v_again) as b order by b.run_id, b.step;
      v_begun := v_begun || v_again;
    end if;
  end if;

  -- PHASE 3: the contexts (task, timeout, dependency outputs by kind; a
  -- map element's input is its element, and its context has its index).
  select coalesce(array_agg(b.o), '{}'), coalesce(pg_catalog.jsonb_object_agg(b.o::text, pg_catalog.jsonb_build_object(
           'ok', true, 'runId', b.run_id::text, 'step', b.step, 'task', t.task,
           'workflow', r.workflow, 'version', r.version, 'input', coalesce(t.input, r.input), 'deps', t.deps,
           'attempt', b.attempt, 'maxAttempts', b.max_attempts,
           'timeoutMs', (extract(epoch from t.timeout) * 1000)::bigint,
           'idempotencyKey', 'rowflow:' || b.run_id || ':' || b.step,
           'kind', b.kind, 'runError', r.error,
           'lease', rowflow._lease(_begin.key, b.run_id, b.step, b.attempt))
           || case when t.idx is not null then pg_catalog.jsonb_build_object('index', t.idx) else '{}'::jsonb end), '{}')
  into v_os, v_results
  from unnest(v_begun) as b
  join rowflow.runs as r on r.id = b.run_id
  cross join lateral (
    select ws.task, ws.timeout,
      (select coalesce(pg_catalog.jsonb_object_agg(o.step, o.output), '{}'::jsonb)
       from rowflow.step_runs as o where o.run_id = b.run_id and o.step = any (ws.depends_on)) as deps,
      null::jsonb as input, null::int as idx
    from rowflow.workflow_steps as ws
    where b.kind = 'step' and ws.workflow = r.workflow and ws.version = r.version and ws.name = b.step
    union all
    select ws.compensate, ws.timeout,
      (select coalesce(pg_catalog.jsonb_object_agg(o.step, o.output), '{}'::jsonb)
       from rowflow.step_runs as o where o.run_id = b.run_id and o.step = ws.name), null, null
    from rowflow.workflow_steps as ws
    where b.kind = 'compensation' and ws.workflow = r.workflow and ws.version = r.version
      and ws.name = substr(b.step, length('compensate:') + 1)
    union all
    select wv.on_failure, null::interval,
      (select coalesce(pg_catalog.jsonb_object_agg(o.step, o.output), '{}'::jsonb)
       from rowflow.step_runs as o where o.run_id = b.run_id and o.kind = 'step' and o.status = 'succeeded'), null, null
    from rowflow.workflow_versions as wv
    where b.kind = 'on_failure' and wv.workflow = r.workflow and wv.version = r.version
    union all
    -- A map element (sql/schema/62_map/): the map step's task and timeout;
    -- no deps (the dependencies' outputs, which hold the whole array, are
    -- not repeated in each of up to 10,000 contexts).
    select ws.task, ws.timeout, '{}'::jsonb, e.input, e.seq::int
    from rowflow.step_runs as e
    join rowflow.workflow_steps as ws
      on ws.workflow = r.workflow and ws.version = r.version and ws.name = pg_catalog.split_part(b.step, '[', 1)
    where b.kind = 'element' and e.run_id = b.run_id and e.step = b.step
  ) as t;
  end if;

  -- PHASE 4: refusals for the calls that did not match.
  if cardinality(v_os) < v_n then
    select v_results || coalesce(pg_catalog.jsonb_object_agg(f.o::text, f.refusal), '{}') into v_results
    from rowflow._refusals(
      array(select c.run_id from unnest(_begin.run_ids, _begin.os) as c(run_id, o) where not c.o = any (v_os) order by c.o),
      array(select c.step from unnest(_begin.steps, _begin.os) as c(step, o) where not c.o = any (v_os) order by c.o),
      array(select c.attempt from unnest(_begin.attempts, _begin.os) as c(attempt, o) where not c.o = any (v_os) order by c.o),
      array(select c.o from unnest(_begin.os) as c(o) where not c.o = any (v_os) order by c.o),
      array['queued', 'running'], case when _begin.check_jobs then _begin.worker_id end) as f;
  end if;
  return v_results;
end;
$$;
comment on function rowflow._begin(bigint[], text[], int[], int[], text, timestamptz, boolean, bytea, boolean) is
  'Internal: begins queued attempts (graphile-fetched, or reserved under worker_id''s lease); answers {o: context or refusal}.';
select rowflow._allow('function rowflow._begin(bigint[], text[], int[], int[], text, timestamptz, boolean, bytea, boolean)', '{}');

-- from sql/schema/60_gate/_cancel_locked.sql
create or replace function rowflow._cancel_locked(run rowflow.runs, reason text, now timestamptz, compensate boolean,
  via text)
returns boolean
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_run rowflow.runs := _cancel_locked.run;
  v_now timestamptz := coalesce(_cancel_locked.now, pg_catalog.statement_timestamp());
  v_compensate boolean := coalesce(_cancel_locked.compensate, false);
  v_chain int := 0;
  v_error jsonb;
  v_from text := v_run.status;
begin
  -- GUARD: only a queued or active run.
  if v_run.status not in ('queued', 'running', 'compensating') or (v_compensate and v_run.status = 'compensating') then
    return false;
  end if;
  -- PHASE 1: cancel every unfinished step run (a compensation chain too,
  -- unless it is to run now) and remove the queued jobs.
  perform rowflow._cancel_steps(v_run.id, array['step', 'compensation', 'on_failure', 'element'],
                                coalesce(_cancel_locked.reason, 'run cancelled'), v_now);
  -- PHASE 2: with compensate, the chain of what succeeded; the run is
  -- 'compensating' while it runs.
  if v_compensate and v_run.status = 'running' then
    v_chain := rowflow._build_chain(v_run, false, v_now);
  end if;
  if v_chain > 0 then
    v_error := pg_catalog.jsonb_build_object('cancelled', true, 'reason', _cancel_locked.reason);
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
    values (v_run.id, 'run_cancelled', pg_catalog.jsonb_build_object('reason', _cancel_locked.reason, 'from', v_from),
            v_now);
  end if;
  -- PHASE 3: the audit row and the live views' hint.
  perform rowflow._audit('cancel_run', v_run.workflow, v_run.id, null, _cancel_locked.reason,
                         pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
                           'from', v_from, 'compensate', v_compensate, 'compensations', v_chain,
                           'via', _cancel_locked.via)), v_now);
  perform rowflow._notify(pg_catalog.jsonb_build_object('run', v_run.id));
  return true;
end;
$$;
comment on function rowflow._cancel_locked(rowflow.runs, text, timestamptz, boolean, text) is
  'Internal: cancels one locked run (optionally compensating its succeeded steps) and audits it (data.via: how); false if it already ended.';
select rowflow._allow('function rowflow._cancel_locked(rowflow.runs, text, timestamptz, boolean, text)', '{}');

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
             pg_catalog.jsonb_object_agg(sr.step, sr.status) filter (where sr.kind in ('compensation', 'on_failure')) as chain
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

-- from sql/schema/60_gate/_release.sql
create or replace function rowflow._release(done rowflow.done_step[], takes int[], worker_id text, now timestamptz,
  key bytea)
returns setof rowflow.released_step
language plpgsql
set search_path to ''
set plan_cache_mode to force_generic_plan
set enable_seqscan to off
set enable_hashjoin to off
set enable_mergejoin to off
set jit to off
as $$
#variable_conflict use_column
declare
  v_frontier rowflow.done_step[] := _release.done;
  v_takes int[] := coalesce(_release.takes, '{}');
  v_can_take boolean;
  v_yield int;
  v_yield_known boolean := false;
  v_dec rowflow.released_step[];
  v_rows rowflow.released_step[];
  v_maps rowflow.done_step[];
  v_all rowflow.released_step[] := '{}';
  v_queues text[];
  v_seq regclass := pg_catalog.pg_get_serial_sequence('graphile_worker._private_jobs', 'id')::regclass;
  v_woke int;
begin
  while coalesce(cardinality(v_frontier), 0) > 0 loop
    -- The lowest priority value waiting elsewhere, looked up once (jobs in a
    -- locked named queue do not count: nobody can fetch them; claim_runs.sql).
    v_can_take := _release.worker_id is not null and exists (select 1 from unnest(v_takes) as t where t > 0);
    if v_can_take and not v_yield_known then
      v_yield := least(
        (select r.priority from rowflow.runs as r
         where r.status = 'queued'
           and not exists (select 1 from rowflow.workflows as w where w.name = r.workflow and w.paused)
         order by r.priority limit 1),
        (select j.priority from graphile_worker._private_jobs as j
         where j.is_available = true and j.run_at <= _release.now
           and (j.job_queue_id is null
                or exists (select 1 from graphile_worker._private_job_queues as q
                           where q.id = j.job_queue_id and q.is_available))
         order by j.priority limit 1));
      v_yield_known := true;
    end if;

    -- PHASE 1: decide. One row per dependent of the frontier not decided
    -- yet; `context` carries what the writes need.
    select coalesce(array_agg(row(z.origin, z.run_id, z.name,
             case
               when z.decision <> 'ready' then z.decision
               when z.map_path is not null then 'pending' -- its elements: rowflow._map_start below
               when z.eligible and z.rn <= coalesce(v_takes[z.origin], 0) then 'running'
               else 'queued'
             end,
             pg_catalog.jsonb_build_object('remaining', z.remaining, 'existed', z.existed, 'attempts', z.attempts,
               'queue', z.queue, 'runAt', _release.now + coalesce(z.delay, interval '0'), 'priority', z.eff_priority,
               'if', z.if_path::text, 'arms', z.wait is not null,
               'maps', z.decision = 'ready' and z.map_path is not null,
               'context', case when z.eligible and z.rn <= coalesce(v_takes[z.origin], 0) then
                 rowflow._context(z.run_id, z.name, 'step', 1, z.attempts, z.task, z.workflow, z.version, z.input,
                                  z.deps, z.timeout, null, rowflow._lease(_release.key, z.run_id, z.name, 1)) end)
           )::rowflow.released_step order by z.run_id, z.name), '{}')
    into v_dec
    from (
      select y.*,
        row_number() over (partition by y.origin, y.eligible order by y.eff_priority, y.run_id, y.name) as rn
      from (
        select x.*, q.queue,
          (v_can_take and x.decision = 'ready' and q.queue is null and x.wait is null and x.map_path is null
           and coalesce(x.delay, interval '0') <= interval '0'
           and (v_yield is null or x.eff_priority <= v_yield)) as eligible
        from (
          select d.origin, d.run_id, d.name, ws.task, ws.attempts, ws.delay, ws.timeout, ws.queue_name, ws.wait,
            ws.queue_key, ws.if_path, ws.map_path, r.workflow, r.version, r.input,
            greatest(-32768, least(32767, ws.priority + r.priority)) as eff_priority,
            sr.step is not null as existed,
            coalesce(sr.deps_remaining, ws.n_deps) - d.n as remaining,
            dp.deps,
            case
              when coalesce(sr.deps_remaining, ws.n_deps) - d.n > 0 then 'pending'
              when ws.if_path is null then 'ready'
              when coalesce(jsonb_path_match(pg_catalog.jsonb_build_object('input', r.input, 'steps', dp.deps),
                                             ws.if_path, '{}', true), false) then 'ready'
              else 'skipped'
            end as decision
          from (
            select f.run_id, dep.name, count(*)::int as n, max(f.origin) as origin
            from unnest(v_frontier) as f(run_id, step, origin)
            join rowflow.runs as fr on fr.id = f.run_id
            join rowflow.workflow_steps as fs
              on fs.workflow = fr.workflow and fs.version = fr.version and fs.name = f.step
            cross join unnest(fs.dependents) as dep(name)
            group by f.run_id, dep.name
          ) as d
          join rowflow.runs as r on r.id = d.run_id
          join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = d.name
          left join rowflow.step_runs as sr on sr.run_id = d.run_id and sr.step = d.name
          cross join lateral (
            select case when coalesce(sr.deps_remaining, ws.n_deps) - d.n = 0 then
              (select coalesce(pg_catalog.jsonb_object_agg(o.step, o.output), '{}'::jsonb)
               from rowflow.step_runs as o where o.run_id = d.run_id and o.step = any (ws.depends_on)) end as deps
          ) as dp
          -- A row that exists and is no longer pending was decided already.
          where sr.step is null or (sr.kind = 'step' and sr.status = 'pending')
        ) as x
        cross join lateral (
          select case when x.decision = 'ready' and x.queue_name is not null then
            rowflow._queue_name(x.queue_name, x.queue_key,
                                pg_catalog.jsonb_build_object('input', x.input, 'steps', x.deps)) end as queue
        ) as q
      ) as y
    ) as z;

    exit when cardinality(v_dec) = 0;

    -- PHASE 2: named queues must exist before their jobs reference them.
    v_queues := array(select distinct (d.context ->> 'queue') from unnest(v_dec) as d
                      where d.status = 'queued' and d.context ->> 'queue' is not null);
    if cardinality(v_queues) > 0 then
      insert into graphile_worker._private_job_queues as q (queue_name)
      select unnest(v_queues) order by 1
      on conflict do nothing;
    end if;

    -- PHASE 3: jobs for the queued ones, rows (leased for the taken ones), events.
    with w as (
      -- Job ids drawn here, not matched back from the insert (see claim_runs).
      select d.*, case when d.status = 'queued' then pg_catalog.nextval(v_seq) end as job_id
      from unnest(v_dec) as d
    ), jobs as (
      insert into graphile_worker._private_jobs as j
        (id, job_queue_id, task_id, payload, run_at, max_attempts, priority)
      overriding system value
      select
        w.job_id,
        case when w.context ->> 'queue' is not null then
          (select q.id from graphile_worker._private_job_queues as q where q.queue_name = w.context ->> 'queue') end,
        (select t.id from graphile_worker._private_tasks as t
         where t.identifier = case when (w.context ->> 'arms')::boolean then 'rowflow:wait' else 'rowflow:step' end),
        pg_catalog.json_build_object('run', w.run_id, 'step', w.step, 'attempt', 1),
        (w.context ->> 'runAt')::timestamptz, 25, (w.context ->> 'priority')::int
      from w where w.status = 'queued'
      order by w.job_id
    ), upd as (
      update rowflow.step_runs as sr
      set deps_remaining = (w.context ->> 'remaining')::int, status = w.status,
          attempt = case when w.status in ('queued', 'running') then 1 else 0 end,
          queued_at = case when w.status in ('queued', 'running') then _release.now end,
          started_at = case when w.status = 'running' then _release.now end,
          finished_at = case when w.status = 'skipped' then _release.now end,
          job_id = w.job_id,
          locked_by = case when w.status = 'running' then _release.worker_id end
      from w
      where (w.context ->> 'existed')::boolean and sr.run_id = w.run_id and sr.step = w.step
    ), ins as (
      insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts,
                                     created_at, queued_at, started_at, finished_at, job_id, locked_by)
      select w.run_id, w.step, 'step', w.status, (w.context ->> 'remaining')::int,
             case when w.status in ('queued', 'running') then 1 else 0 end, (w.context ->> 'attempts')::int,
             _release.now, case when w.status in ('queued', 'running') then _release.now end,
             case when w.status = 'running' then _release.now end,
             case when w.status = 'skipped' then _release.now end, w.job_id,
             case when w.status = 'running' then _release.worker_id end
      from w where not (w.context ->> 'existed')::boolean
      order by w.run_id, w.step
    ), ev as (
      insert into rowflow.events (run_id, step, type, data, at)
      select w.run_id, w.step, 'step_skipped', pg_catalog.jsonb_build_object('if', w.context ->> 'if'), _release.now
      from w where w.status = 'skipped'
      order by w.run_id, w.step
    )
    select coalesce(array_agg(row(w.origin, w.run_id, w.step, w.status,
             case when w.status = 'running' then
               (w.context -> 'context') || pg_catalog.jsonb_build_object('priority', (w.context ->> 'priority')::int) end
           )::rowflow.released_step order by w.run_id, w.step)
             filter (where not (w.context ->> 'maps')::boolean), '{}'),
           coalesce(array_agg(row(w.run_id, w.step, w.origin)::rowflow.done_step order by w.run_id, w.step)
             filter (where (w.context ->> 'maps')::boolean), '{}')
    into v_rows, v_maps
    from w;
    -- Map steps that became ready get their elements (or finish at once:
    -- an empty array; sql/schema/62_map/_map_start.sql).
    if cardinality(v_maps) > 0 then
      v_maps := rowflow._map_start(v_maps, _release.now);
    end if;

    v_all := v_all || v_rows;
    -- Takes used by this round; skipped steps are the next frontier.
    v_takes := array(
      select greatest(0, coalesce(v_takes[i], 0) - (select count(*) from unnest(v_rows) as x
                                                    where x.origin = i and x.status = 'running'))::int
      from pg_catalog.generate_series(1, coalesce(cardinality(v_takes), 0)) as i
      order by i);
    v_frontier := array(select row(x.run_id, x.step, x.origin)::rowflow.done_step
                        from unnest(v_rows) as x where x.status = 'skipped' order by x.run_id, x.step) || v_maps;
  end loop;

  if exists (select 1 from unnest(v_all) as x where x.status = 'queued') then
    v_woke := rowflow._wake_all((select count(*)::int from unnest(v_all) as x where x.status = 'queued'), 0, null);
  end if;
  return query select * from unnest(v_all);
end;
$$;
comment on function rowflow._release(rowflow.done_step[], int[], text, timestamptz, bytea) is
  'Internal: releases dependents of succeeded/skipped steps of many runs (conditions, queues, delays); hands up to takes[origin] of them to worker_id.';
select rowflow._allow('function rowflow._release(rowflow.done_step[], int[], text, timestamptz, bytea)', '{}');

-- from sql/schema/60_gate/claim_runs.sql
create or replace function rowflow._claim(worker_id text, take int, max_runs int, now timestamptz, key bytea)
returns jsonb
language plpgsql
set search_path to ''
set plan_cache_mode to force_generic_plan
set enable_seqscan to off
set enable_hashjoin to off
set enable_mergejoin to off
set jit to off
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(_claim.now, pg_catalog.statement_timestamp());
  v_take int := coalesce(_claim.take, 0);
  v_limit int := coalesce(_claim.max_runs, greatest(coalesce(_claim.take, 0), 1));
  v_out record;
  v_seq regclass := pg_catalog.pg_get_serial_sequence('graphile_worker._private_jobs', 'id')::regclass;
  v_woke int;
  v_yield int;
begin
  -- GUARD: arguments.
  if v_take < 0 or v_limit < 0 then
    raise exception 'claim_runs: take and max_runs must not be negative (take %, max_runs %)', v_take, v_limit
      using errcode = '22023';
  end if;
  if v_take > 0 and _claim.worker_id is null then
    raise exception 'claim_runs: take > 0 needs the worker_id that will run the steps' using errcode = '22023';
  end if;
  if v_limit = 0 then
    return '{"runs": 0, "taken": []}';
  end if;
  -- A worker that takes steps does not start a run while an available job
  -- with a lower priority value is due (backfill runs yield to live work).
  if v_take > 0 then
    v_yield := (select j.priority from graphile_worker._private_jobs as j
                where j.is_available = true and j.run_at <= v_now
                  and (j.job_queue_id is null
                       or exists (select 1 from graphile_worker._private_job_queues as q
                                  where q.id = j.job_queue_id and q.is_available))
                order by j.priority limit 1);
  end if;

  -- PHASE 1: one statement: the runs; the plan of every step of theirs (a
  -- root step is skipped by its condition, taken — the first `take`
  -- eligible ones in claim order — or queued; the others get pending rows
  -- now, so that releasing them later only updates a row); jobs for the
  -- queued roots; the rows; skip events.
  with c as (
    select r.id,
           exists (select 1 from rowflow.workflow_versions as wv
                   where wv.workflow = r.workflow and wv.version = r.version) as known
    from rowflow.runs as r
    where r.status = 'queued' and (v_yield is null or r.priority <= v_yield)
      and not exists (select 1 from rowflow.workflows as w where w.name = r.workflow and w.paused)
    order by r.priority, r.id
    limit v_limit
    for no key update skip locked
  ), u as (
    -- A run of a workflow version that does not exist (inserted by hand, a
    -- broken restore) fails here, RF025, instead of running forever.
    update rowflow.runs as r
    set status = case when c.known then 'running' else 'failed' end, started_at = v_now, updated_at = v_now,
        finished_at = case when c.known then null else v_now end,
        error = case when c.known then null else pg_catalog.jsonb_build_object('code', 'RF025',
                  'message', pg_catalog.format('workflow %s has no version %s', r.workflow, r.version)) end
    from c where r.id = c.id
    returning r.id, r.workflow, r.version, r.input, r.priority, r.status, r.error
  ), bad as (
    insert into rowflow.events (run_id, type, data, at)
    select u.id, 'run_failed', pg_catalog.jsonb_build_object('error', u.error), v_now
    from u where u.status = 'failed'
  ), s as (
    select u.id as run_id, u.workflow, u.version, u.input, ws.name as step, ws.task, ws.attempts, ws.delay,
      ws.timeout, ws.if_path, ws.n_deps, ws.n_deps = 0 as root,
      greatest(-32768, least(32767, ws.priority + u.priority)) as priority, q.queue, g.go,
      (ws.n_deps = 0 and g.go and q.queue is null and coalesce(ws.delay, interval '0') <= interval '0'
       and ws.wait is null and ws.map_path is null) as eligible, ws.wait is not null as arms,
      ws.map_path is not null as maps,
      u.priority as run_priority
    from u
    join rowflow.workflow_steps as ws on ws.workflow = u.workflow and ws.version = u.version and u.status = 'running'
    cross join lateral (
      select ws.n_deps = 0 and (ws.if_path is null
        or coalesce(jsonb_path_match(pg_catalog.jsonb_build_object('input', u.input, 'steps', '{}'::jsonb),
                                     ws.if_path, '{}', true), false)) as go
    ) as g
    cross join lateral (
      select case when g.go and ws.queue_name is not null then
        rowflow._queue_name(ws.queue_name, ws.queue_key,
                            pg_catalog.jsonb_build_object('input', u.input, 'steps', '{}'::jsonb)) end as queue
    ) as q
  ), d as (
    select s.*,
      case when not s.root then 'pending'
           when not s.go then 'skipped'
           when s.maps then 'pending' -- its elements: rowflow._map_start below
           when s.eligible
                and row_number() over (partition by s.eligible
                                       order by s.run_priority, s.run_id, s.priority, s.step) <= v_take
             then 'running'
           else 'queued' end as status
    from s
  ), p as (
    -- Job ids drawn here (graphile's own sequence), not matched back from
    -- the insert's RETURNING: a join of thousands of rows against it would
    -- be a nested loop with hash joins off.
    select d.*, case when d.status = 'queued' then pg_catalog.nextval(v_seq) end as job_id
    from d
  ), jobs as (
    insert into graphile_worker._private_jobs as j (id, job_queue_id, task_id, payload, run_at, max_attempts, priority)
    overriding system value
    select
      p.job_id,
      null,
      (select t.id from graphile_worker._private_tasks as t
       where t.identifier = case when p.arms then 'rowflow:wait' else 'rowflow:step' end),
      pg_catalog.json_build_object('run', p.run_id, 'step', p.step, 'attempt', 1),
      v_now + coalesce(p.delay, interval '0'), 25, p.priority
    from p where p.status = 'queued'
    order by p.job_id
  ), ins as (
    insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts,
                                   created_at, queued_at, started_at, finished_at, job_id, locked_by)
    select p.run_id, p.step, 'step', p.status, case when p.status = 'pending' then p.n_deps else 0 end,
           case when p.status in ('queued', 'running') then 1 else 0 end,
           p.attempts, v_now, case when p.status in ('queued', 'running') then v_now end,
           case when p.status = 'running' then v_now end, case when p.status = 'skipped' then v_now end, p.job_id,
           case when p.status = 'running' then _claim.worker_id end
    from p
    order by p.run_id, p.step
  ), ev as (
    insert into rowflow.events (run_id, step, type, data, at)
    select p.run_id, p.step, 'step_skipped', pg_catalog.jsonb_build_object('if', p.if_path::text), v_now
    from p where p.status = 'skipped'
    order by p.run_id, p.step
  )
  select (select count(*)::int from u where u.status = 'running') as runs,
         coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'ok', true, 'runId', p.run_id::text, 'step', p.step, 'task', p.task,
           'workflow', p.workflow, 'version', p.version, 'input', p.input, 'deps', '{}'::jsonb,
           'attempt', 1, 'maxAttempts', p.attempts,
           'timeoutMs', (extract(epoch from p.timeout) * 1000)::bigint,
           'idempotencyKey', 'rowflow:' || p.run_id || ':' || p.step,
           'kind', 'step', 'runError', null, 'priority', p.priority,
           'lease', rowflow._lease(_claim.key, p.run_id, p.step, 1))
           order by p.run_priority, p.run_id, p.priority, p.step)
           filter (where p.status = 'running'), '[]'::jsonb) as taken,
         count(*) filter (where p.status = 'queued')::int as queued,
         coalesce(array_agg(row(p.run_id, p.step, 1)::rowflow.done_step order by p.run_id, p.step)
                  filter (where p.status = 'skipped'), '{}') as skipped,
         coalesce(array_agg(row(p.run_id, p.step, 1)::rowflow.done_step order by p.run_id, p.step)
                  filter (where p.root and p.go and p.maps), '{}') as maps,
         pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', p.job_id, 'queue', p.queue))
           filter (where p.status = 'queued' and p.queue is not null) as queue_jobs
  into v_out
  from p;

  -- PHASE 2 (rare): jobs of named queues: the queue rows (created when
  -- missing) and their ids, before anything commits.
  if v_out.queue_jobs is not null then
    insert into graphile_worker._private_job_queues as jq (queue_name)
    select distinct x ->> 'queue' from pg_catalog.jsonb_array_elements(v_out.queue_jobs) as x
    on conflict do nothing;
    update graphile_worker._private_jobs as j
    set job_queue_id = jq.id
    from pg_catalog.jsonb_array_elements(v_out.queue_jobs) as x
    join graphile_worker._private_job_queues as jq on jq.queue_name = x ->> 'queue'
    where j.id = (x ->> 'id')::bigint;
  end if;

  -- PHASE 3: runs with skipped root steps: release what the skips satisfy
  -- (rare), then finish the runs that have nothing left. Root map steps
  -- get their elements (sql/schema/62_map/_map_start.sql); an empty one is
  -- done at once, like a skip.
  if cardinality(v_out.maps) > 0 then
    v_out.skipped := v_out.skipped || rowflow._map_start(v_out.maps, v_now);
  end if;
  if cardinality(v_out.skipped) > 0 then
    perform rowflow._release(v_out.skipped, null, null, v_now, null);
    perform rowflow._finish_runs(array(select distinct d.run_id from unnest(v_out.skipped) as d), v_now);
  end if;
  -- Jobs for a waiting worker; a hint for live views (rowflow tail shows
  -- run_started and the first steps at once instead of at its next poll).
  if v_out.queued > 0 or v_out.runs > 0 then
    v_woke := rowflow._wake_all(v_out.queued, 0,
      case when v_out.runs > 0 then pg_catalog.jsonb_build_object('claimed', v_out.runs) end);
  end if;
  return pg_catalog.jsonb_build_object('runs', v_out.runs, 'taken', v_out.taken);
end;
$$;
select rowflow._allow('function rowflow._claim(text, int, int, timestamptz, bytea)', '{}');

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
  v_open bigint[];
  v_run rowflow.runs;
  v_next text;
  v_chained jsonb := '{}';
  v_status jsonb := '{}';
  v_begun jsonb := '{}';
  v_claimed jsonb;
  v_claimed_taken jsonb;
  v_claim_i int;
  v_refusals jsonb;
  v_queued int := 0;
  v_by_call jsonb;
  v_answer jsonb;
  v_i int;
  v_woke int;
  v_key bytea;
  v_trusted boolean;
  v_limit int := coalesce(nullif(pg_catalog.current_setting('rowflow.max_output_bytes', true), '')::int, 1048576);
begin
  -- GUARD: a worker; one value per call in every array; the worker's token
  -- when it takes or reserves steps.
  perform rowflow._require('{worker}');
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
  if v_worker is not null then
    perform rowflow._check_worker(v_worker, complete_steps.worker_token);
  end if;
  v_key := rowflow._secret();
  v_trusted := complete_steps.leases is null and rowflow._trusted();
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
  v_left := v_takes;
  if cardinality(v_done.steps) > 0 then
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
    into v_plan
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
    ) as x;

    if v_plan.plain then
      -- Who runs the ready ones: call i's slots (takes[i]), this worker's
      -- local queue (reserve), or graphile (a job). Not this worker while
      -- something with a lower priority value waits (that some worker can
      -- fetch: not in a locked named queue, see claim_runs.sql).
      if cardinality(v_plan.ready) > 0 and v_worker is not null
         and (v_reserve > 0 or 0 < any (v_takes)) then
        -- Only what beats the worst ready priority matters: bounded index
        -- scans, which stop at the first page past the bound (claimed runs
        -- leave dead entries at the start of runs_queued_idx until vacuum).
        v_yield := least(
          (select r.priority from rowflow.runs as r
           where r.status = 'queued' and r.priority < v_plan.worst
             and not exists (select 1 from rowflow.workflows as w where w.name = r.workflow and w.paused)
           order by r.priority limit 1),
          (select j.priority from graphile_worker._private_jobs as j
           where j.is_available = true and j.run_at <= v_now and j.priority < v_plan.worst
             and (j.job_queue_id is null
                  or exists (select 1 from graphile_worker._private_job_queues as q
                             where q.id = j.job_queue_id and q.is_available))
           order by j.priority limit 1));
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
                 'lease', rowflow._lease(v_key, u.run_id, u.step, 1))
                    when u.status = 'queued' and u.locked_by is not null then pg_catalog.jsonb_build_object(
                 'runId', u.run_id::text, 'step', u.step, 'attempt', 1,
                 'priority', greatest(-32768, least(32767, ws.priority + r.priority))) end
             )::rowflow.released_step order by u.run_id, u.step), '{}'),
             count(*) filter (where u.status = 'queued' and u.locked_by is null)::int
      into v_rel, v_queued
      from u
      join rowflow.runs as r on r.id = u.run_id
      join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = u.step;
    else
      -- The general path: conditions, queues, delays, rows to create.
      v_rel := array(select rowflow._release(v_done.steps, v_takes, v_worker, v_now, v_key));
      v_left := array(select greatest(0, t.n - (select count(*) from unnest(v_rel) as x
                                                where x.origin = t.o and x.status = 'running'))::int
                      from unnest(v_takes) with ordinality as t(n, o) order by t.o);
    end if;
  end if;
  -- Runs that go on: a dependent of theirs is pending, queued or running now.
  v_open := array(select distinct x.run_id from unnest(v_rel) as x where x.status <> 'skipped');

  -- PHASE 3: the next link of compensation / on-failure chains (rare).
  if cardinality(v_done.chain_runs) > 0 then
    for v_run in select r.* from rowflow.runs as r where r.id = any (v_done.chain_runs) order by r.id loop
      v_next := rowflow._advance_chain_step(v_run, v_now);
      if v_next is not null then
        v_chained := v_chained || pg_catalog.jsonb_build_object(v_run.id::text, v_next);
        v_open := v_open || v_run.id;
      end if;
    end loop;
  end if;

  -- PHASE 4: finish the runs left with nothing open: a running one
  -- succeeds when no step row of it is pending, queued or running (every
  -- step has a row then: a finished step gave each dependent one); a
  -- compensating one takes _finish_runs (the chain's results).
  if exists (select 1 from unnest(v_done.runs) as x where not x = any (v_open)) then
    with f as (
      update rowflow.runs as r
      set status = 'succeeded', updated_at = v_now, finished_at = v_now
      where r.id = any (array(select x from unnest(v_done.runs) as x where not x = any (v_open)))
        and r.status = 'running'
        and not exists (select 1 from rowflow.step_runs as sr
                        where sr.run_id = r.id and sr.status in ('pending', 'queued', 'running'))
      returning r.id
    )
    select coalesce(pg_catalog.jsonb_object_agg(f.id::text, 'succeeded'), '{}') into v_status from f;
    if exists (select 1 from unnest(v_done.runs) as x where not x = any (v_open)
               and v_done.run_status ->> x::text = 'compensating') then
      select v_status || coalesce(pg_catalog.jsonb_object_agg(f.run_id::text, f.status), '{}') into v_status
      from rowflow._finish_runs(array(select x from unnest(v_done.runs) as x
                                      where not x = any (v_open)
                                        and v_done.run_status ->> x::text = 'compensating'), v_now) as f;
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
  v_claimed_taken := coalesce(v_claimed -> 'taken', '[]'::jsonb);
  v_claim_i := 0;
  for v_i in 1 .. v_n loop
    v_answer := coalesce(v_by_call -> (v_i::text), '{"released": [], "skipped": [], "taken": [], "reserved": []}'::jsonb);
    -- The reserved step begun for this call's slot goes first.
    if (v_begun -> (v_i::text) ->> 'ok')::boolean then
      v_answer := pg_catalog.jsonb_set(v_answer, '{taken}',
                                       pg_catalog.jsonb_build_array(v_begun -> (v_i::text)) || (v_answer -> 'taken'));
    end if;
    if v_left[v_i] > 0 and v_claim_i < pg_catalog.jsonb_array_length(v_claimed_taken) then
      v_answer := pg_catalog.jsonb_set(v_answer, '{taken}', (v_answer -> 'taken')
        || coalesce((select pg_catalog.jsonb_agg(e) from pg_catalog.jsonb_array_elements(v_claimed_taken)
                     with ordinality as t(e, k) where t.k > v_claim_i and t.k <= v_claim_i + v_left[v_i]), '[]'::jsonb));
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
  v_lost boolean := coalesce(_fail_attempt.error ->> 'kind', '') = 'worker_lost';
  v_error_in jsonb := _fail_attempt.error;
  v_retryable boolean := coalesce(_fail_attempt.retryable, true);
  v_max_lost constant int := 3;
  v_max_any constant int := 10;
  v_suspect boolean;
  v_strikes int;
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
                                 when 'compensation' then substr(v_sr.step, length('compensate:') + 1)
                                 when 'element' then pg_catalog.split_part(v_sr.step, '[', 1) end;

  -- A lost attempt is retried at once without using up an attempt. The
  -- step is quarantined as poison when it was the suspect of v_max_lost
  -- worker deaths: the attempt its worker started last (error.suspect, set
  -- by _end_leases; a re-delivered job's attempt, whose companions are not
  -- known, counts as suspect). A step that only shared a dying worker with
  -- a poison step, or lost its connection to a Postgres restart (the worker
  -- itself reports that: no workerId), is no suspect; any step is given up
  -- after v_max_any lost attempts.
  if v_lost then
    v_suspect := coalesce((_fail_attempt.error ->> 'suspect')::boolean, _fail_attempt.error ? 'workerId');
    v_strikes := (v_suspect)::int + (select count(*)::int from rowflow.events as e
      where e.run_id = v_sr.run_id and e.step = v_sr.step and e.type = 'step_retrying'
        and e.data -> 'error' ->> 'kind' = 'worker_lost'
        and coalesce((e.data -> 'error' ->> 'suspect')::boolean, e.data -> 'error' ? 'workerId'));
    v_error_in := v_error_in || pg_catalog.jsonb_build_object('suspect', v_suspect);
    if v_strikes >= v_max_lost or v_sr.lost_attempts + 1 >= v_max_any then
      v_retryable := false;
      v_error_in := v_error_in || pg_catalog.jsonb_build_object('code', 'RF_POISON', 'poison', true,
        'lostAttempts', v_sr.lost_attempts + 1,
        'message', case when v_strikes >= v_max_lost
          then pg_catalog.format('step %s killed its worker %s times (it was the attempt its worker started last when the worker died): quarantined, not retried; last: %s',
                                 v_sr.step, v_strikes, _fail_attempt.error ->> 'message')
          else pg_catalog.format('step %s lost its worker or its connection %s times: given up, not retried; last: %s',
                                 v_sr.step, v_sr.lost_attempts + 1, _fail_attempt.error ->> 'message') end);
    else
      update rowflow.step_runs as sr
      set max_attempts = sr.max_attempts + 1, lost_attempts = sr.lost_attempts + 1
      where sr.run_id = v_sr.run_id and sr.step = v_sr.step
      returning sr.* into v_sr;
      v_error_in := v_error_in || pg_catalog.jsonb_build_object('lostAttempts', v_sr.lost_attempts);
    end if;
  end if;

  -- PHASE 1: another attempt, if allowed (a new job).
  if v_retryable and v_sr.attempt < v_sr.max_attempts then
    v_delay := case when v_lost then interval '0' else case coalesce(v_ws.backoff_type, 'exponential')
      when 'fixed' then coalesce(v_ws.backoff_base, interval '1 second')
      else least(coalesce(v_ws.backoff_base, interval '1 second') * power(2, least(v_sr.attempt - 1, 40)),
                 coalesce(v_ws.backoff_max, interval '5 minutes'))
    end end;
    -- jitter j spreads the delay uniformly over [d·(1-j), d·(1+j)], capped at max.
    v_delay := least(v_delay * (1 - coalesce(v_ws.backoff_jitter, 0.2) * (2 * random() - 1)),
                     greatest(coalesce(v_ws.backoff_max, interval '5 minutes'), v_delay));
    v_retry_at := coalesce(_fail_attempt.retry_at, v_now + v_delay);
    v_ids := rowflow._add_step_jobs(array[row(v_sr.run_id, v_sr.step, v_sr.attempt + 1,
      rowflow._queue_name(v_ws.queue_name, v_ws.queue_key, jsonb_build_object('input', v_run.input,
        'steps', case when v_sr.kind = 'step' then rowflow._deps_outputs(v_sr.run_id, v_ws.depends_on) else '{}' end)),
      v_retry_at, coalesce(v_ws.priority, 0) + v_run.priority)::rowflow.step_job]);
    update rowflow.step_runs as sr
    set status = 'queued', attempt = sr.attempt + 1, error = v_error_in, job_id = v_ids[1], started_at = null,
        locked_by = null
    where sr.run_id = v_sr.run_id and sr.step = v_sr.step;
    insert into rowflow.events (run_id, step, type, attempt, data, at)
    values (v_sr.run_id, v_sr.step, 'step_retrying', v_sr.attempt,
            jsonb_build_object('error', v_error_in, 'retryAt', v_retry_at, 'nextAttempt', v_sr.attempt + 1,
                               'startedAt', v_sr.started_at), v_now);
    update rowflow.runs as r set updated_at = v_now where r.id = v_run.id;
    perform rowflow._notify(jsonb_build_object('run', v_run.id));
    return jsonb_build_object('ok', true, 'outcome', 'retrying', 'retryAt', v_retry_at,
                              'nextAttempt', v_sr.attempt + 1, 'runStatus', v_run.status);
  end if;

  -- PHASE 2: the step failed for good.
  update rowflow.step_runs as sr
  set status = 'failed', error = v_error_in, finished_at = v_now, locked_by = null
  where sr.run_id = v_sr.run_id and sr.step = v_sr.step;
  insert into rowflow.events (run_id, step, type, attempt, data, at)
  values (v_sr.run_id, v_sr.step, 'step_failed', v_sr.attempt,
          jsonb_build_object('error', v_error_in, 'retryable', v_retryable,
                             'startedAt', v_sr.started_at), v_now);
  v_status := v_run.status;
  v_error := v_run.error;
  -- A map element: its map step decides (sql/schema/62_map/_map_element_failed.sql).
  if v_sr.kind = 'element' then
    return rowflow._map_element_failed(v_run.id, v_sr.step, v_error_in, v_now);
  end if;

  if v_sr.kind = 'step' then
    -- PHASE 3: the run fails: cancel the other steps (those without a row
    -- too), then build the compensation chain (reverse completion order),
    -- on-failure last.
    perform rowflow._cancel_steps(v_run.id, array['step', 'element'], 'run failed', v_now);
    v_error := jsonb_build_object('step', v_sr.step, 'attempt', v_sr.attempt, 'error', v_error_in);
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

-- from sql/schema/62_map/_map_element_failed.sql
create or replace function rowflow._map_element_failed(run_id bigint, step text, error jsonb, now timestamptz)
returns jsonb
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_run rowflow.runs;
  v_map text := pg_catalog.split_part(_map_element_failed.step, '[', 1);
  v_mode text;
  v_parent rowflow.step_runs;
  v_done rowflow.done_step[];
  v_index int;
begin
  select r.* into v_run from rowflow.runs as r where r.id = _map_element_failed.run_id;
  select ws.map_errors into v_mode from rowflow.workflow_steps as ws
  where ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = v_map;
  select sr.seq into v_index from rowflow.step_runs as sr
  where sr.run_id = v_run.id and sr.step = _map_element_failed.step;
  -- Counted as failed; with "collect" _map_settle counts it as finished
  -- too, else it is finished here (the step fails with it).
  update rowflow.step_maps as m
  set failed = m.failed + 1, open = m.open - case when v_mode = 'collect' then 0 else 1 end
  where m.run_id = v_run.id and m.step = v_map;

  if v_mode = 'collect' then
    -- PHASE 1: collected: the step goes on, and may be done now.
    v_done := rowflow._map_settle(array[row(v_run.id, _map_element_failed.step, 1)::rowflow.done_step],
                                  _map_element_failed.now);
    if cardinality(v_done) > 0 then
      perform rowflow._release(v_done, null, null, _map_element_failed.now, null);
      perform rowflow._finish_runs(array[v_run.id], _map_element_failed.now);
    end if;
    perform rowflow._notify(pg_catalog.jsonb_build_object('run', v_run.id));
    return pg_catalog.jsonb_build_object('ok', true, 'outcome', 'failed', 'collected', true,
      'runStatus', (select r.status from rowflow.runs as r where r.id = v_run.id));
  end if;

  -- PHASE 2: the map step fails (and the run with it).
  select sr.* into v_parent from rowflow.step_runs as sr
  where sr.run_id = v_run.id and sr.step = v_map and sr.status = 'running';
  if not found then
    return pg_catalog.jsonb_build_object('ok', true, 'outcome', 'failed', 'runStatus', v_run.status);
  end if;
  return rowflow._fail_attempt(v_run.id, v_map, v_parent.attempt,
    pg_catalog.jsonb_build_object('code', 'RF072', 'element', v_index,
      'message', pg_catalog.format('element %s of map step %s failed: %s', v_index, v_map,
                                   coalesce(_map_element_failed.error ->> 'message', 'no message')),
      'error', _map_element_failed.error),
    false, null, _map_element_failed.now);
end;
$$;
comment on function rowflow._map_element_failed(bigint, text, jsonb, timestamptz) is
  'Internal: a map element failed for good: fails its map step (RF072; the run fails) or, with mapErrors collect, counts it as finished.';
select rowflow._allow('function rowflow._map_element_failed(bigint, text, jsonb, timestamptz)', '{}');

-- from sql/schema/62_map/_map_finish.sql
create or replace function rowflow._map_finish(steps rowflow.done_step[], now timestamptz)
returns rowflow.done_step[]
language plpgsql
set search_path to ''
set plan_cache_mode to force_generic_plan
set enable_seqscan to off
set enable_hashjoin to off
set enable_mergejoin to off
set jit to off
as $$
#variable_conflict use_column
declare
  v_done rowflow.done_step[];
begin
  with o as (
    select l.run_id, l.step, l.origin,
      (select coalesce(pg_catalog.jsonb_agg(
                case when ws.map_errors = 'collect' then
                  case when el.status = 'succeeded'
                       then pg_catalog.jsonb_build_object('ok', true, 'output', el.output)
                       else pg_catalog.jsonb_build_object('ok', false, 'error', el.error) end
                else el.output end order by el.seq), '[]'::jsonb)
       from rowflow.step_runs as el
       where el.run_id = l.run_id and el.kind = 'element' and pg_catalog.left(el.step, pg_catalog.length(l.step) + 1) = l.step || '[') as output
    from unnest(_map_finish.steps) as l(run_id, step, origin)
    join rowflow.runs as r on r.id = l.run_id
    join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = l.step
  ), u as (
    update rowflow.step_runs as sr
    set status = 'succeeded', output = o.output, finished_at = _map_finish.now
    from o
    where sr.run_id = o.run_id and sr.step = o.step and sr.status = 'running'
    returning o.run_id, o.step, o.origin
  )
  select coalesce(array_agg(row(u.run_id, u.step, u.origin)::rowflow.done_step order by u.run_id, u.step), '{}')
  into v_done
  from u;
  return v_done;
end;
$$;
comment on function rowflow._map_finish(rowflow.done_step[], timestamptz) is
  'Internal: map steps whose elements all finished succeed with the elements'' outputs in order; answers them.';
select rowflow._allow('function rowflow._map_finish(rowflow.done_step[], timestamptz)', '{}');

-- from sql/schema/62_map/_map_settle.sql
create or replace function rowflow._map_settle(elements rowflow.done_step[], now timestamptz)
returns rowflow.done_step[]
language plpgsql
set search_path to ''
set plan_cache_mode to force_generic_plan
set enable_seqscan to off
set enable_hashjoin to off
set enable_mergejoin to off
set jit to off
as $$
#variable_conflict use_column
declare
  v_last rowflow.done_step[];
begin
  -- PHASE 1: the counters.
  with c as (
    select e.run_id, pg_catalog.split_part(e.step, '[', 1) as step, count(*)::int as n, max(e.origin) as origin
    from unnest(_map_settle.elements) as e(run_id, step, origin)
    group by 1, 2
  ), u as (
    update rowflow.step_maps as m set open = m.open - c.n
    from c
    where m.run_id = c.run_id and m.step = c.step
    returning m.run_id, m.step, m.open, c.origin
  )
  select coalesce(array_agg(row(u.run_id, u.step, u.origin)::rowflow.done_step order by u.run_id, u.step)
                  filter (where u.open = 0), '{}')
  into v_last
  from u;
  if cardinality(v_last) = 0 then
    return '{}';
  end if;

  -- PHASE 2: the finished map steps succeed (sql/schema/62_map/_map_finish.sql).
  return rowflow._map_finish(v_last, _map_settle.now);
end;
$$;
comment on function rowflow._map_settle(rowflow.done_step[], timestamptz) is
  'Internal: counts finished map elements down; finishes the map steps whose last element that was (output: the elements'' outputs in order) and answers them.';
select rowflow._allow('function rowflow._map_settle(rowflow.done_step[], timestamptz)', '{}');

-- from sql/schema/62_map/_map_start.sql
create or replace function rowflow._map_start(steps rowflow.done_step[], now timestamptz)
returns rowflow.done_step[]
language plpgsql
set search_path to ''
set plan_cache_mode to force_generic_plan
set enable_seqscan to off
set enable_hashjoin to off
set enable_mergejoin to off
set jit to off
as $$
#variable_conflict use_column
declare
  c_max constant int := 10000;
  v_plan record;
  v_bad record;
  v_seq regclass := pg_catalog.pg_get_serial_sequence('graphile_worker._private_jobs', 'id')::regclass;
  v_done rowflow.done_step[] := '{}';
  v_n int;
  v_woke int;
begin
  if coalesce(cardinality(_map_start.steps), 0) = 0 then
    return '{}';
  end if;

  -- PHASE 1: each step's array, and what becomes of the step.
  select coalesce(array_agg(row(x.run_id, x.step, x.origin)::rowflow.done_step order by x.run_id, x.step)
                  filter (where x.n = 0), '{}') as empty,
         coalesce(array_agg(row(x.run_id, x.step, x.origin)::rowflow.done_step order by x.run_id, x.step)
                  filter (where x.n between 1 and c_max), '{}') as go,
         coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('run', x.run_id, 'step', x.step,
             'error', case when x.n is null then pg_catalog.jsonb_build_object('code', 'RF071',
                        'message', pg_catalog.format('map step %s: %s is %s, not an array', x.step, x.map_path,
                                                     coalesce('a JSON ' || pg_catalog.jsonb_typeof(x.val), 'missing')))
                      else pg_catalog.jsonb_build_object('code', 'RF070', 'elements', x.n, 'limit', c_max,
                        'message', pg_catalog.format('map step %s: %s has %s elements; a map step runs over at most %s',
                                                     x.step, x.map_path, x.n, c_max)) end)
             order by x.run_id, x.step) filter (where x.n is null or x.n > c_max), '[]'::jsonb) as bad
  into v_plan
  from (
    select s.run_id, s.step, s.origin, ws.map_path::text as map_path, v.val,
      case when pg_catalog.jsonb_typeof(v.val) = 'array' then pg_catalog.jsonb_array_length(v.val) end as n
    from unnest(_map_start.steps) as s(run_id, step, origin)
    join rowflow.runs as r on r.id = s.run_id and r.status = 'running'
    join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = s.step
    join rowflow.step_runs as p on p.run_id = s.run_id and p.step = s.step and p.status = 'pending'
    cross join lateral (
      select jsonb_path_query_first(pg_catalog.jsonb_build_object('input', r.input,
                                      'steps', rowflow._deps_outputs(s.run_id, ws.depends_on)),
                                    ws.map_path, '{}', true) as val
    ) as v
    where ws.map_path is not null
  ) as x;

  -- PHASE 2 (rare): steps over a bad value fail, and their runs with them.
  for v_bad in select (b ->> 'run')::bigint as run_id, b ->> 'step' as step, b -> 'error' as error
               from pg_catalog.jsonb_array_elements(v_plan.bad) as b loop
    update rowflow.step_runs as sr
    set status = 'running', attempt = 1, queued_at = _map_start.now, started_at = _map_start.now
    where sr.run_id = v_bad.run_id and sr.step = v_bad.step and sr.status = 'pending';
    if found then
      perform rowflow._fail_attempt(v_bad.run_id, v_bad.step, 1, v_bad.error, false, null, _map_start.now);
    end if;
  end loop;

  -- PHASE 3: empty arrays: done at once, output [].
  if cardinality(v_plan.empty) > 0 then
    with u as (
      update rowflow.step_runs as sr
      set status = 'succeeded', output = '[]'::jsonb, attempt = 1, queued_at = _map_start.now,
          started_at = _map_start.now, finished_at = _map_start.now
      from unnest(v_plan.empty) as e(run_id, step, origin)
      where sr.run_id = e.run_id and sr.step = e.step and sr.status = 'pending'
        and exists (select 1 from rowflow.runs as r where r.id = e.run_id and r.status = 'running')
      returning e.run_id, e.step, e.origin
    )
    select coalesce(array_agg(row(u.run_id, u.step, u.origin)::rowflow.done_step order by u.run_id, u.step), '{}')
    into v_done
    from u;
  end if;

  -- PHASE 4: one statement: every element of every step, its job, its
  -- row; the steps' counters; the steps running.
  if cardinality(v_plan.go) > 0 then
    with g as (
      -- An element that succeeded before the step was retried (retry_run
      -- keeps those) is not created again.
      select s.run_id, s.step, ws.attempts, greatest(-32768, least(32767, ws.priority + r.priority)) as priority,
             e.value, (e.idx - 1)::int as idx,
             m.run_id is not null and exists (
               select 1 from rowflow.step_runs as k
               where k.run_id = s.run_id and k.step = s.step || '[' || (e.idx - 1) || ']'
                 and k.status = 'succeeded') as kept
      from unnest(v_plan.go) as s(run_id, step, origin)
      left join rowflow.step_maps as m on m.run_id = s.run_id and m.step = s.step
      join rowflow.runs as r on r.id = s.run_id and r.status = 'running'
      join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = s.step
      join rowflow.step_runs as p on p.run_id = s.run_id and p.step = s.step and p.status = 'pending'
      cross join lateral pg_catalog.jsonb_array_elements(
        jsonb_path_query_first(pg_catalog.jsonb_build_object('input', r.input,
                                 'steps', rowflow._deps_outputs(s.run_id, ws.depends_on)),
                               ws.map_path, '{}', true)) with ordinality as e(value, idx)
    ), w as (
      -- Job ids drawn here (graphile's own sequence), not matched back from
      -- the insert's RETURNING (see claim_runs).
      select g.*, g.step || '[' || g.idx || ']' as element, pg_catalog.nextval(v_seq) as job_id
      from g where not g.kept
    ), jobs as (
      insert into graphile_worker._private_jobs as j (id, job_queue_id, task_id, payload, run_at, max_attempts, priority)
      overriding system value
      select w.job_id, null,
             (select t.id from graphile_worker._private_tasks as t where t.identifier = 'rowflow:step'),
             pg_catalog.json_build_object('run', w.run_id, 'step', w.element, 'attempt', 1),
             _map_start.now, 25, w.priority
      from w
      order by w.job_id
    ), els as (
      insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts, seq, input,
                                     created_at, queued_at, job_id)
      select w.run_id, w.element, 'element', 'queued', 0, 1, w.attempts, w.idx, w.value,
             _map_start.now, _map_start.now, w.job_id
      from w
      order by w.run_id, w.element
    ), maps as (
      -- A map step retried (retry_run) has its counter rewritten.
      insert into rowflow.step_maps as m (run_id, step, total, open, failed, created_at)
      select g.run_id, g.step, count(*)::int, (count(*) filter (where not g.kept))::int, 0, _map_start.now
      from g group by g.run_id, g.step
      order by g.run_id, g.step
      on conflict (run_id, step) do update
      set total = excluded.total, open = excluded.open, failed = 0, created_at = excluded.created_at
    ), par as (
      update rowflow.step_runs as sr
      set status = 'running', attempt = 1, queued_at = _map_start.now, started_at = _map_start.now
      from unnest(v_plan.go) as s(run_id, step, origin)
      where sr.run_id = s.run_id and sr.step = s.step and sr.status = 'pending'
        and exists (select 1 from rowflow.runs as r where r.id = s.run_id and r.status = 'running')
    )
    select count(*)::int into v_n from w;
    if v_n > 0 then
      v_woke := rowflow._wake_all(v_n, 0, null);
    end if;
    -- A retried step whose elements had all succeeded is done now.
    if exists (select 1 from unnest(v_plan.go) as s(run_id, step, origin)
               join rowflow.step_maps as m on m.run_id = s.run_id and m.step = s.step where m.open = 0) then
      v_done := v_done || rowflow._map_finish(array(
        select row(s.run_id, s.step, s.origin)::rowflow.done_step from unnest(v_plan.go) as s(run_id, step, origin)
        join rowflow.step_maps as m on m.run_id = s.run_id and m.step = s.step where m.open = 0
        order by s.run_id, s.step), _map_start.now);
    end if;
  end if;
  return v_done;
end;
$$;
comment on function rowflow._map_start(rowflow.done_step[], timestamptz) is
  'Internal: creates the elements of ready map steps (one statement: rows and jobs); answers the map steps done at once (empty arrays); fails those over a bad value (RF070, RF071).';
select rowflow._allow('function rowflow._map_start(rowflow.done_step[], timestamptz)', '{}');

-- from sql/schema/85_operate/_requeue_steps.sql
create or replace function rowflow._requeue_steps(run_id bigint, steps text[], now timestamptz)
returns text[]
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_run rowflow.runs;
  v_done rowflow.done_step[];
  v_roots text[];
  v_jobs rowflow.step_job[];
  v_ids bigint[];
  v_released text[];
  v_plain int;
begin
  select r.* into v_run from rowflow.runs as r where r.id = _requeue_steps.run_id;
  -- PHASE 1: roots get a job now.
  -- Waiting steps get a rowflow:wait job (rowflow.arm_step), the others a
  -- rowflow:step job: the roots are ordered waits last, so one call each.
  select coalesce(array_agg(ws.name order by ws.wait is not null, ws.name), '{}'),
         coalesce(array_agg(row(v_run.id, ws.name, 1,
           rowflow._queue_name(ws.queue_name, ws.queue_key,
                               pg_catalog.jsonb_build_object('input', v_run.input, 'steps', '{}'::jsonb)),
           _requeue_steps.now + coalesce(ws.delay, interval '0'), coalesce(ws.priority, 0) + v_run.priority
           )::rowflow.step_job order by ws.wait is not null, ws.name), '{}'),
         (count(*) filter (where ws.wait is null))::int
  into v_roots, v_jobs, v_plain
  from rowflow.workflow_steps as ws
  where ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = any (_requeue_steps.steps)
    and ws.n_deps = 0 and ws.map_path is null;
  v_ids := rowflow._add_step_jobs(v_jobs[1:v_plain])
           || rowflow._add_step_jobs(v_jobs[v_plain + 1:], 'rowflow:wait');
  insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts, created_at,
                                 queued_at, job_id)
  select v_run.id, ws.name, 'step', 'queued', 0, 1, ws.attempts, _requeue_steps.now, _requeue_steps.now, v_ids[o.i]
  from unnest(v_roots) with ordinality as o(name, i)
  join rowflow.workflow_steps as ws on ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = o.name
  order by o.i;

  -- PHASE 1b: root map steps get their elements (sql/schema/62_map/_map_start.sql);
  -- one over an empty array is done at once, and PHASE 2 finds it done.
  insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts, created_at)
  select v_run.id, ws.name, 'step', 'pending', 0, 0, ws.attempts, _requeue_steps.now
  from rowflow.workflow_steps as ws
  where ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = any (_requeue_steps.steps)
    and ws.n_deps = 0 and ws.map_path is not null
  order by ws.name;
  if found then
    perform rowflow._map_start(array(
      select row(v_run.id, ws.name, 1)::rowflow.done_step from rowflow.workflow_steps as ws
      where ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = any (_requeue_steps.steps)
        and ws.n_deps = 0 and ws.map_path is not null
      order by ws.name), _requeue_steps.now);
  end if;

  -- PHASE 2: the others, released by their done dependencies.
  select coalesce(array_agg(distinct row(v_run.id, sr.step, 1)::rowflow.done_step), '{}') into v_done
  from rowflow.workflow_steps as ws
  cross join unnest(ws.depends_on) as dep(name)
  join rowflow.step_runs as sr on sr.run_id = v_run.id and sr.step = dep.name and sr.kind = 'step'
  where ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = any (_requeue_steps.steps)
    and sr.status in ('succeeded', 'skipped');
  select coalesce(array_agg(x.step order by x.step) filter (where x.status in ('queued', 'running')), '{}')
  into v_released
  from rowflow._release(v_done, null, null, _requeue_steps.now, null) as x;
  return v_roots || v_released;
end;
$$;
comment on function rowflow._requeue_steps(bigint, text[], timestamptz) is
  'Internal: queues the given steps of a running run afresh (roots now, the others through the release of their done dependencies); answers the steps queued.';
select rowflow._allow('function rowflow._requeue_steps(bigint, text[], timestamptz)', '{}');

-- from sql/schema/85_operate/explain_run.sql
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
           t.id as wait_task, t.assignee as wait_assignee,
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
      'until', x.wait_until,
      'elements', case when x.map_total is not null then pg_catalog.jsonb_build_object(
        'total', x.map_total, 'open', x.map_open, 'failed', x.map_failed) end))
  from x
  order by case x.row_kind when 'step' then 0 else 1 end, x.step;
end;
$$;
comment on function rowflow.explain_run(bigint, timestamptz, interval) is
  'Why each unfinished step of a run is not running (or where it runs): code, sentence and figures. RF023 if the run is unknown.';
select rowflow._allow('function rowflow.explain_run(bigint, timestamptz, interval)', '{operator,viewer}');

-- from sql/schema/85_operate/purge_runs.sql
create or replace function rowflow._purge_batch(older_than interval, statuses text[], workflow text, batch int,
  now timestamptz)
returns bigint[]
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_ids bigint[];
begin
  select coalesce(array_agg(v.id order by v.id), '{}') into v_ids
  from (
    select r.id from rowflow.runs as r
    where r.status = any (_purge_batch.statuses) and r.status in ('succeeded', 'failed', 'cancelled')
      and r.finished_at < _purge_batch.now - _purge_batch.older_than
      and (_purge_batch.workflow is null or r.workflow = _purge_batch.workflow)
    order by r.id
    limit _purge_batch.batch
    for update skip locked
  ) as v;
  if cardinality(v_ids) > 0 then
    delete from rowflow.step_runs as sr where sr.run_id = any (v_ids);
    delete from rowflow.events as e where e.run_id = any (v_ids);
    delete from rowflow.signals as s where s.run_id = any (v_ids);
    delete from rowflow.human_tasks as t where t.run_id = any (v_ids);
    delete from rowflow.step_waits as w where w.run_id = any (v_ids);
    delete from rowflow.step_maps as m where m.run_id = any (v_ids);
    delete from rowflow.runs as r where r.id = any (v_ids);
  end if;
  return v_ids;
end;
$$;
comment on function rowflow._purge_batch(interval, text[], text, int, timestamptz) is
  'Internal: deletes up to batch finished runs older than older_than (steps, events, signals, tasks); answers their ids.';
select rowflow._allow('function rowflow._purge_batch(interval, text[], text, int, timestamptz)', '{}');

-- from sql/schema/85_operate/retry_run.sql
create or replace function rowflow.retry_run(run_id bigint, mode text default 'failed', reason text default null,
  now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(retry_run.now, pg_catalog.statement_timestamp());
  v_run rowflow.runs;
  v_reset text[];
  v_seeds text[];
  v_chain jsonb;
  v_compensated text[];
  v_queued text[];
  v_answer jsonb;
  v_status text;
begin
  -- GUARD: operators; a known mode; lock the run; only failed/cancelled.
  perform rowflow._require('{operator}');
  if retry_run.mode is null or retry_run.mode not in ('failed', 'failed_and_downstream') then
    raise exception 'retry_run: mode must be ''failed'' or ''failed_and_downstream'', got %',
      coalesce(pg_catalog.quote_literal(retry_run.mode), 'null') using errcode = 'RF043';
  end if;
  select r.* into v_run from rowflow.runs as r where r.id = retry_run.run_id for no key update;
  if not found then
    raise exception 'unknown run %', retry_run.run_id using errcode = 'RF023';
  end if;
  if v_run.status in ('queued', 'running') then
    return pg_catalog.jsonb_build_object('run', v_run.id, 'retried', false, 'status', v_run.status);
  end if;
  if v_run.status = 'succeeded' then
    raise exception 'run % succeeded: nothing to retry', v_run.id using errcode = 'RF040',
      hint = 'Start a new run of the workflow to run it again.';
  end if;
  if v_run.status = 'compensating' then
    raise exception 'run % is compensating: retry it once its compensation chain has ended', v_run.id
      using errcode = 'RF040';
  end if;

  -- PHASE 1: a run cancelled before its claim: queue it again, its
  -- cancelled step rows removed (its claim writes the step rows; the
  -- step_cancelled events stay in its history).
  if v_run.started_at is null then
    delete from rowflow.step_runs as sr where sr.run_id = v_run.id;
    update rowflow.runs as r set status = 'queued', error = null, finished_at = null, updated_at = v_now
    where r.id = v_run.id;
    v_answer := pg_catalog.jsonb_build_object('run', v_run.id, 'retried', true, 'mode', retry_run.mode,
      'from', v_run.status, 'status', 'queued', 'steps', '[]'::jsonb, 'queued', '[]'::jsonb, 'chain', '{}'::jsonb);
    insert into rowflow.events (run_id, type, data, at)
    values (v_run.id, 'run_retried', v_answer - 'run' - 'retried' || pg_catalog.jsonb_build_object('reason', retry_run.reason), v_now);
    perform rowflow._audit('retry_run', v_run.workflow, v_run.id, null, retry_run.reason, v_answer, v_now);
    perform rowflow._wake_all(0, 1, pg_catalog.jsonb_build_object('run', v_run.id));
    return v_answer;
  end if;

  -- PHASE 2: the steps to run again: failed and cancelled ones, and in
  -- 'failed_and_downstream' mode everything that depends on them.
  with recursive seed as (
    select sr.step from rowflow.step_runs as sr
    where sr.run_id = v_run.id and sr.kind = 'step' and sr.status in ('failed', 'cancelled')
  ), down(name) as (
    select s.step from seed as s
    union
    select dep.name
    from down as d
    join rowflow.workflow_steps as ws on ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = d.name
    cross join unnest(ws.dependents) as dep(name)
    where retry_run.mode = 'failed_and_downstream'
  )
  select coalesce(array_agg(d.name order by d.name), '{}'),
         coalesce(array_agg(d.name order by d.name) filter (where d.name in (select s.step from seed as s)), '{}')
  into v_reset, v_seeds from down as d;

  -- The chain of the failure, kept in the event; compensated steps named.
  select pg_catalog.jsonb_object_agg(sr.step, sr.status order by sr.seq),
         array_agg(substr(sr.step, length('compensate:') + 1) order by sr.seq)
           filter (where sr.kind = 'compensation' and sr.status = 'succeeded')
  into v_chain, v_compensated
  from rowflow.step_runs as sr where sr.run_id = v_run.id and sr.kind in ('compensation', 'on_failure');

  -- PHASE 3: remove the reset steps' rows (and any job still queued for
  -- them) and the chain's; the run is running again. A reset map step's
  -- elements go too, except, for a map step that failed or was cancelled
  -- itself, those that succeeded: its release creates only the others
  -- again (sql/schema/62_map/_map_start.sql), so a retry reruns the failed
  -- and cancelled elements only. A map step reset because it is downstream
  -- of a failure loses all its elements (its array may differ now).
  delete from graphile_worker._private_jobs as j
  using rowflow.step_runs as sr
  where sr.run_id = v_run.id
    and (sr.kind in ('compensation', 'on_failure') or sr.step = any (v_reset)
         or (sr.kind = 'element' and pg_catalog.split_part(sr.step, '[', 1) = any (v_reset)))
    and j.id = sr.job_id and j.locked_at is null;
  delete from rowflow.step_runs as sr
  where sr.run_id = v_run.id
    and (sr.kind in ('compensation', 'on_failure') or sr.step = any (v_reset)
         or (sr.kind = 'element' and pg_catalog.split_part(sr.step, '[', 1) = any (v_reset)
             and (sr.status <> 'succeeded' or not pg_catalog.split_part(sr.step, '[', 1) = any (v_seeds))));
  delete from rowflow.step_maps as m
  where m.run_id = v_run.id and m.step = any (v_reset) and not m.step = any (v_seeds);
  update rowflow.runs as r set status = 'running', error = null, finished_at = null, updated_at = v_now
  where r.id = v_run.id;

  -- PHASE 4: queue what can run (sql/schema/85_operate/_requeue_steps.sql).
  v_queued := rowflow._requeue_steps(v_run.id, v_reset, v_now);

  -- PHASE 5: record it; a run whose reset steps were all skipped by
  -- their conditions is finished here.
  v_answer := pg_catalog.jsonb_build_object('run', v_run.id, 'retried', true, 'mode', retry_run.mode,
    'from', v_run.status, 'status', 'running', 'steps', pg_catalog.to_jsonb(v_reset),
    'queued', pg_catalog.to_jsonb(v_queued), 'chain', coalesce(v_chain, '{}'::jsonb));
  if v_compensated is not null then
    v_answer := v_answer || pg_catalog.jsonb_build_object('warning',
      'compensations ran for ' || pg_catalog.array_to_string(v_compensated, ', ') ||
      ': their effects were undone and ' ||
      case when retry_run.mode = 'failed' then 'those steps are not run again in mode failed'
           else 'only the steps downstream of the failure run again' end);
  end if;
  insert into rowflow.events (run_id, type, data, at)
  values (v_run.id, 'run_retried',
          v_answer - 'run' - 'retried' || pg_catalog.jsonb_build_object('reason', retry_run.reason), v_now);
  perform rowflow._audit('retry_run', v_run.workflow, v_run.id, null, retry_run.reason, v_answer - 'run', v_now);
  select f.status into v_status from rowflow._finish_runs(array[v_run.id], v_now) as f;
  perform rowflow._notify(pg_catalog.jsonb_build_object('run', v_run.id));
  return v_answer || pg_catalog.jsonb_build_object('status', coalesce(v_status, 'running'));
end;
$$;
comment on function rowflow.retry_run(bigint, text, text, timestamptz) is
  'Runs a failed or cancelled run''s failed/cancelled steps again (mode failed) or those and everything downstream (failed_and_downstream), keeping the other outputs. Answers what it reset and queued; {"retried": false} for a queued/running run.';
select rowflow._allow('function rowflow.retry_run(bigint, text, text, timestamptz)', '{operator}');
