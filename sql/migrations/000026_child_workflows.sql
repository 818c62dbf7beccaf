-- 000026_child_workflows.sql — child workflows (issue 20, item 2).
-- A step with "child": {"workflow", "input"} starts a run of another
-- workflow and waits for it as a wait step does (a rowflow.step_waits row,
-- kind 'child': no worker slot held), then takes the child's outcome. The
-- child records its parent (runs.parent_run_id, parent_step); a trigger on
-- runs queues the parent's rowflow:child job when a child ends (the
-- parent's lock is taken by that job, never under the child's, since
-- cancel_run locks a parent and then its child); a trigger on step_waits
-- cancels an active child when its wait ends otherwise (the parent was
-- cancelled or failed, the step skipped). docs/architecture.md, "Child
-- workflows".


alter table rowflow.runs add column parent_run_id bigint, add column parent_step text;
comment on column rowflow.runs.parent_run_id is
  'A child run (a "child" step, docs/spec.md "Child workflows"): the run whose step parent_step started it; null otherwise. The parent step waits for this run and takes its outcome (rowflow.settle_child).';
alter table rowflow.step_waits add column child_run_id bigint;
alter table rowflow.step_waits drop constraint detail_matches_kind;
alter table rowflow.step_waits add constraint detail_matches_kind
  check ((kind = 'signal') = (signal is not null) and (kind = 'row') = (relid is not null)
         and (kind = 'human') = (task_id is not null) and (kind = 'child') = (child_run_id is not null));
alter table rowflow.step_waits drop constraint kind_is_valid;
alter table rowflow.step_waits add constraint kind_is_valid check (kind in ('signal', 'human', 'row', 'child'));
alter table rowflow.events drop constraint type_is_valid;
alter table rowflow.events add constraint type_is_valid check (type in (
    'run_started', 'run_succeeded', 'run_failed', 'run_compensating', 'run_cancelled',
    'step_queued', 'step_started', 'step_succeeded', 'step_failed', 'step_retrying',
    'step_skipped', 'step_cancelled', 'run_retried', 'run_rerun',
    'step_sleeping', 'step_waiting', 'step_timed_out', 'signal_received',
    'task_created', 'task_claimed', 'task_reassigned', 'task_escalated', 'task_completed', 'row_matched',
    'child_succeeded'));
comment on table rowflow.step_waits is
  'Steps waiting now for a signal, a person, a business row or a child run (their step run stays queued, holding no worker); see rowflow.arm_step.';


-- from sql/schema/20_tables/20_runs.sql
create index runs_parent_idx on rowflow.runs (parent_run_id, parent_step) where parent_run_id is not null;

-- from sql/schema/25_views/run_steps.sql
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
  end as child_run_id
from rowflow.runs as r
join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version
left join rowflow.step_runs as sr on sr.run_id = r.id and sr.step = ws.name
union all
select sr.run_id, sr.step, sr.kind, sr.status, sr.deps_remaining, sr.attempt, sr.max_attempts, sr.seq,
       sr.output, sr.error, sr.created_at, sr.started_at, sr.finished_at, sr.job_id, sr.queued_at, sr.locked_by,
       null::bigint
from rowflow.step_runs as sr
where sr.kind <> 'step';
comment on view rowflow.run_steps is
  'Every step run of every run; a step without a row in rowflow.step_runs (not ready yet: runs claimed before every step got its row) shows as pending.';
select rowflow._allow('view rowflow.run_steps', '{viewer}');

-- from sql/schema/25_views/visible_runs.sql
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

-- from sql/schema/30_define/_compile_child.sql
create or replace function rowflow._compile_child(spec jsonb, what text)
returns jsonb
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_key text;
begin
  if jsonb_typeof(_compile_child.spec) is distinct from 'object' then
    raise exception '%: "child" must be an object like {"workflow": "shipping", "input": "$.steps.pack"}',
      _compile_child.what using errcode = 'RF001';
  end if;
  for v_key in select k from jsonb_object_keys(_compile_child.spec) as k order by k loop
    if v_key not in ('workflow', 'input') then
      raise exception '%: unknown child option %; allowed: workflow, input', _compile_child.what,
        to_jsonb(left(v_key, 100))::text using errcode = 'RF002';
    end if;
  end loop;
  if jsonb_typeof(_compile_child.spec -> 'workflow') is distinct from 'string' then
    raise exception '%: child.workflow is required: the name of the workflow to start', _compile_child.what
      using errcode = 'RF001';
  end if;
  if (_compile_child.spec ->> 'workflow') !~ '^[a-z][a-z0-9_-]{0,62}$' then
    raise exception '%: invalid child.workflow name %: use 1-63 characters a-z, 0-9, "_" or "-", starting with a lowercase letter',
      _compile_child.what, left((_compile_child.spec -> 'workflow')::text, 100) using errcode = 'RF004';
  end if;
  return pg_catalog.jsonb_build_object('kind', 'child', 'workflow', _compile_child.spec ->> 'workflow',
    'input', rowflow._compile_path(coalesce(_compile_child.spec -> 'input', '"$.input"'),
                                   _compile_child.what || ': child.input')::text);
end;
$$;
comment on function rowflow._compile_child(jsonb, text) is
  'Internal: validates a step''s "child" option (workflow, input path) and answers its part of the compiled wait.';
select rowflow._allow('function rowflow._compile_child(jsonb, text)', '{}');

-- from sql/schema/30_define/_compile_wait.sql
create or replace function rowflow._compile_wait(step jsonb, what text, owner name)
returns jsonb
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_kinds text[] := array(select k from unnest(array['wait', 'human', 'waitFor', 'child']) as k
                          where _compile_wait.step ? k);
  v_kind text;
  v_spec jsonb;
  v_key text;
  v_allowed text[];
  v_out jsonb := '{}';
  v_start jsonb := _compile_wait.step -> 'startAt';
  v_on jsonb;
begin
  -- GUARD: at most one wait kind; a wait step has no handler options.
  if cardinality(v_kinds) > 1 then
    raise exception '%: a step waits in one way only; it has %', _compile_wait.what, array_to_string(v_kinds, ' and ')
      using errcode = 'RF001';
  end if;
  if cardinality(v_kinds) = 0 and v_start is null then
    return null;
  end if;
  v_kind := v_kinds[1];
  if v_kind is not null then
    -- A child step keeps attempts and backoff: a failed child is retried
    -- by starting a new one (rowflow.settle_child).
    select k into v_key from jsonb_object_keys(_compile_wait.step) as k
    where k in ('task', 'attempts', 'backoff', 'timeout', 'compensate', 'queue')
      and not (v_kind = 'child' and k in ('attempts', 'backoff')) order by k limit 1;
    if found then
      raise exception '%: a "%" step has no task; "%" does not apply to it', _compile_wait.what, v_kind, v_key
        using errcode = 'RF002', hint = case when v_kind = 'child'
          then 'A child step may have name, dependsOn, priority, delay, if, startAt, attempts and backoff.'
          else 'A wait step may have name, dependsOn, priority, delay, if and startAt.' end;
    end if;
  end if;

  -- PHASE 1: startAt: "<path>" or {"at": "<path>", "before" | "after": "<interval>"}.
  if v_start is not null then
    if jsonb_typeof(v_start) = 'object' then
      for v_key in select k from jsonb_object_keys(v_start) as k order by k loop
        if v_key not in ('at', 'before', 'after') then
          raise exception '%: unknown startAt option %; allowed: at, before, after', _compile_wait.what,
            to_jsonb(left(v_key, 100))::text using errcode = 'RF002';
        end if;
      end loop;
      if v_start ? 'before' and v_start ? 'after' then
        raise exception '%: startAt has both "before" and "after"; give one', _compile_wait.what using errcode = 'RF001';
      end if;
      if not v_start ? 'at' then
        raise exception '%: startAt.at is required: a path to a time, like "$.input.shipBy"', _compile_wait.what
          using errcode = 'RF001';
      end if;
      v_out := v_out || jsonb_build_object(
        'startAt', rowflow._compile_path(v_start -> 'at', _compile_wait.what || ': startAt.at')::text,
        'offset', case when v_start ? 'before'
                       then (-rowflow._parse_interval(v_start -> 'before', _compile_wait.what || ': startAt.before'))::text
                       when v_start ? 'after'
                       then rowflow._parse_interval(v_start -> 'after', _compile_wait.what || ': startAt.after')::text end);
    else
      v_out := v_out || jsonb_build_object(
        'startAt', rowflow._compile_path(v_start, _compile_wait.what || ': startAt')::text);
    end if;
  end if;
  if v_kind is null then
    return v_out || '{"kind": "time"}';
  end if;
  if v_kind = 'child' then
    return v_out || rowflow._compile_child(_compile_wait.step -> 'child', _compile_wait.what);
  end if;

  -- PHASE 2: the kind's own options.
  v_spec := _compile_wait.step -> v_kind;
  if jsonb_typeof(v_spec) is distinct from 'object' then
    raise exception '%: "%" must be an object', _compile_wait.what, v_kind using errcode = 'RF001';
  end if;
  v_allowed := case v_kind
    when 'wait' then array['signal', 'timeout', 'onTimeout']
    when 'human' then array['assignee', 'title', 'description', 'form', 'due', 'escalateTo', 'onTimeout']
    else array['table', 'where', 'timeout', 'onTimeout'] end;
  for v_key in select k from jsonb_object_keys(v_spec) as k order by k loop
    if not v_key = any (v_allowed) then
      raise exception '%: unknown % option %; allowed: %', _compile_wait.what, v_kind, to_jsonb(left(v_key, 100))::text,
        array_to_string(v_allowed, ', ') using errcode = 'RF002';
    end if;
  end loop;
  if v_kind = 'wait' then
    if jsonb_typeof(v_spec -> 'signal') is distinct from 'string' then
      raise exception '%: wait.signal is required: the name of the signal to wait for', _compile_wait.what
        using errcode = 'RF001';
    end if;
    if (v_spec ->> 'signal') !~ '^[A-Za-z0-9_.:-]{1,128}$' then
      raise exception '%: invalid signal name %: use 1-128 characters A-Z, a-z, 0-9, "_", ".", ":" or "-"',
        _compile_wait.what, left((v_spec -> 'signal')::text, 140) using errcode = 'RF004';
    end if;
    v_out := v_out || jsonb_build_object('kind', 'signal', 'signal', v_spec ->> 'signal');
  elsif v_kind = 'human' then
    if jsonb_typeof(v_spec -> 'assignee') is distinct from 'string' or length(v_spec ->> 'assignee') not between 1 and 200 then
      raise exception '%: human.assignee is required: a person or group (1-200 characters), or a path to one like "$.input.ownerEmail"',
        _compile_wait.what using errcode = 'RF001';
    end if;
    if jsonb_typeof(v_spec -> 'title') is distinct from 'string' or length(v_spec ->> 'title') not between 1 and 500 then
      raise exception '%: human.title is required: a string of 1-500 characters', _compile_wait.what using errcode = 'RF001';
    end if;
    if v_spec ? 'description' and jsonb_typeof(v_spec -> 'description') <> 'string' then
      raise exception '%: human.description must be a string', _compile_wait.what using errcode = 'RF001';
    end if;
    if v_spec ? 'escalateTo' and (jsonb_typeof(v_spec -> 'escalateTo') <> 'string'
                                  or length(v_spec ->> 'escalateTo') not between 1 and 200) then
      raise exception '%: human.escalateTo must be a person or group (1-200 characters)', _compile_wait.what
        using errcode = 'RF001';
    end if;
    if v_spec ? 'escalateTo' and not v_spec ? 'due' then
      raise exception '%: human.escalateTo needs "due": the task escalates when it is due', _compile_wait.what
        using errcode = 'RF001';
    end if;
    if v_spec ? 'form' and rowflow._form_problem(v_spec -> 'form') is not null then
      raise exception '%: human.form is not a supported JSON Schema: %', _compile_wait.what,
        rowflow._form_problem(v_spec -> 'form') using errcode = 'RF001', hint = 'The supported subset: docs/forms.md.';
    end if;
    v_out := v_out || jsonb_build_object('kind', 'human', 'title', v_spec ->> 'title',
      'description', v_spec ->> 'description', 'form', coalesce(v_spec -> 'form', '{}'),
      'escalateTo', v_spec ->> 'escalateTo')
      || case when left(v_spec ->> 'assignee', 1) = '$'
           then jsonb_build_object('assigneePath',
                  rowflow._compile_path(v_spec -> 'assignee', _compile_wait.what || ': human.assignee')::text)
           else jsonb_build_object('assignee', v_spec ->> 'assignee') end;
  else
    v_out := v_out || jsonb_build_object('kind', 'row')
      || rowflow._compile_row_wait(v_spec -> 'table', v_spec -> 'where', _compile_wait.what, _compile_wait.owner);
  end if;

  -- PHASE 3: the deadline and what happens at it.
  v_key := case v_kind when 'human' then 'due' else 'timeout' end;
  if v_spec ? v_key then
    if rowflow._parse_interval(v_spec -> v_key, _compile_wait.what || ': ' || v_kind || '.' || v_key) <= interval '0' then
      raise exception '%: %.% must be greater than zero', _compile_wait.what, v_kind, v_key using errcode = 'RF010';
    end if;
    v_out := v_out || jsonb_build_object('timeout',
      rowflow._parse_interval(v_spec -> v_key, _compile_wait.what || ': ' || v_kind || '.' || v_key)::text);
  end if;
  v_on := coalesce(v_spec -> 'onTimeout', '"fail"');
  if not (v_on in ('"fail"', '"skip"')
          or (jsonb_typeof(v_on) = 'object' and v_on ? 'output'
              and (select count(*) from jsonb_object_keys(v_on)) = 1)) then
    raise exception '%: %.onTimeout must be "fail", "skip" or {"output": <the step''s output>}, got %', _compile_wait.what,
      v_kind, left(v_on::text, 100) using errcode = 'RF001';
  end if;
  if v_spec ? 'onTimeout' and not v_spec ? v_key then
    raise exception '%: %.onTimeout needs "%"', _compile_wait.what, v_kind, v_key using errcode = 'RF001';
  end if;
  return v_out || jsonb_build_object('onTimeout', v_on);
end;
$$;
comment on function rowflow._compile_wait(jsonb, text, name) is
  'Internal: validates a step''s startAt / wait / human / waitFor and answers its compiled wait (workflow_steps.wait), or null.';
select rowflow._allow('function rowflow._compile_wait(jsonb, text, name)', '{}');

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
                       'queue', 'delay', 'if', 'compensate', 'startAt', 'wait', 'human', 'waitFor', 'child') then
        raise exception '%: unknown option %; allowed: name, task, dependsOn, attempts, backoff, timeout, priority, queue, delay, if, compensate, startAt, wait, human, waitFor, child',
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
    -- A child step ("child") is one too: '(child)'; the workflow it starts
    -- must be defined already, or be this one (RF015).
    v_wait := null;
    if v_step ?| array['wait', 'human', 'waitFor', 'child'] then
      v_wait := rowflow._compile_wait(v_step, v_where, define_workflow.owner);
      v_task := '(' || case when v_step ? 'wait' then 'wait' when v_step ? 'human' then 'human'
                            when v_step ? 'waitFor' then 'waitFor' else 'child' end || ')';
      if v_wait ->> 'kind' = 'child' and v_wait ->> 'workflow' <> define_workflow.name
         and not exists (select 1 from rowflow.workflows as w where w.name = v_wait ->> 'workflow') then
        raise exception '%: child.workflow "%" is not defined; define it first', v_where, v_wait ->> 'workflow'
          using errcode = 'RF015', hint = 'A workflow may start itself; any other child workflow must exist.';
      end if;
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

    v_norm := v_norm || jsonb_build_object(
      'idx', v_ord, 'name', v_sname, 'task', v_task, 'depends_on', to_jsonb(v_deps), 'wait', v_wait,
      -- A child step makes one attempt unless told: its child's steps retry.
      'attempts', coalesce((v_step ->> 'attempts')::int, case when v_wait ->> 'kind' = 'child' then 1 else 3 end),
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
    queue_name, queue_key, delay, if_path, compensate, wait)
  select define_workflow.name, v_version, (s ->> 'idx')::smallint, s ->> 'name', s ->> 'task',
    array(select jsonb_array_elements_text(s -> 'depends_on')),
    coalesce(dd.dependents, '{}'),
    jsonb_array_length(s -> 'depends_on'),
    (s ->> 'attempts')::smallint, s ->> 'backoff_type', (s ->> 'backoff_base')::interval,
    (s ->> 'backoff_max')::interval, (s ->> 'backoff_jitter')::double precision,
    (s ->> 'timeout')::interval, (s ->> 'priority')::smallint, s ->> 'queue_name',
    (s ->> 'queue_key')::jsonpath, (s ->> 'delay')::interval, (s ->> 'if_path')::jsonpath, s ->> 'compensate',
    case when jsonb_typeof(s -> 'wait') = 'object' then s -> 'wait' end
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
                                 when 'compensation' then substr(v_sr.step, length('compensate:') + 1) end;

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
      v_retry_at, coalesce(v_ws.priority, 0) + v_run.priority)::rowflow.step_job],
      -- A child step's next attempt is armed again: a new child run.
      case when v_sr.kind = 'step' and v_ws.wait ->> 'kind' = 'child' then 'rowflow:wait' else 'rowflow:step' end);
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

  if v_sr.kind = 'step' then
    -- PHASE 3: the run fails: cancel the other steps (those without a row
    -- too), then build the compensation chain (reverse completion order),
    -- on-failure last.
    perform rowflow._cancel_steps(v_run.id, array['step'], 'run failed', v_now);
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

-- from sql/schema/78_waits/_cancel_child.sql
create or replace function rowflow.tg_step_waits__cancel_child()
returns trigger
language plpgsql
set search_path to ''
as $$
declare
  v_child rowflow.runs;
begin
  select r.* into v_child from rowflow.runs as r
  where r.id = old.child_run_id and r.status in ('queued', 'running', 'compensating')
  for no key update;
  if found then
    perform rowflow._cancel_locked(v_child, pg_catalog.format('parent run %s step %s ended', old.run_id, old.step),
                                   pg_catalog.statement_timestamp(), false, 'parent');
  end if;
  return null;
end;
$$;
select rowflow._allow('function rowflow.tg_step_waits__cancel_child()', '{}');

-- from sql/schema/78_waits/_child_ended.sql
create or replace function rowflow.tg_runs__child_ended()
returns trigger
language plpgsql
set search_path to ''
as $$
begin
  perform rowflow._add_step_jobs(array[row(new.parent_run_id, new.parent_step, sr.attempt, null, null,
                                           new.priority)::rowflow.step_job], 'rowflow:child')
  from rowflow.step_runs as sr
  where sr.run_id = new.parent_run_id and sr.step = new.parent_step and sr.status = 'queued';
  return null;
end;
$$;
select rowflow._allow('function rowflow.tg_runs__child_ended()', '{}');

-- from sql/schema/78_waits/_start_child.sql
create or replace function rowflow._start_child(run rowflow.runs, ws rowflow.workflow_steps, sr rowflow.step_runs,
  wait jsonb, ctx jsonb, now timestamptz)
returns jsonb
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  c_max_depth constant int := 10;
  v_run rowflow.runs := _start_child.run;
  v_sr rowflow.step_runs := _start_child.sr;
  v_workflow text := _start_child.wait ->> 'workflow';
  v_version int;
  v_input jsonb;
  v_depth int;
  v_key text;
  v_child rowflow.runs;
begin
  -- GUARD: the depth, the workflow, the input.
  with recursive up as (
    select r.parent_run_id as id, 1 as depth from rowflow.runs as r where r.id = v_run.id
    union all
    select r.parent_run_id, up.depth + 1 from up join rowflow.runs as r on r.id = up.id
    where up.depth <= c_max_depth
  )
  select count(*)::int into v_depth from up where up.id is not null;
  if v_depth >= c_max_depth then
    return rowflow._fail_wait(v_run.id, v_sr.step, v_sr.attempt, pg_catalog.jsonb_build_object(
      'message', pg_catalog.format('run %s already has %s ancestor runs; a child workflow may be at most %s levels deep',
                                   v_run.id, v_depth, c_max_depth),
      'code', 'child_depth'), _start_child.now);
  end if;
  select w.latest_version into v_version from rowflow.workflows as w where w.name = v_workflow;
  if v_version is null then
    return rowflow._fail_wait(v_run.id, v_sr.step, v_sr.attempt, pg_catalog.jsonb_build_object(
      'message', pg_catalog.format('child workflow %s is not defined', v_workflow), 'code', 'child_workflow'),
      _start_child.now);
  end if;
  v_input := jsonb_path_query_first(_start_child.ctx, (_start_child.wait ->> 'input')::jsonpath, '{}', true);
  if v_input is null or pg_catalog.jsonb_typeof(v_input) <> 'object' then
    return rowflow._fail_wait(v_run.id, v_sr.step, v_sr.attempt, pg_catalog.jsonb_build_object(
      'message', pg_catalog.format('child.input %s gave %s, not a JSON object', _start_child.wait ->> 'input',
                                   coalesce(pg_catalog.jsonb_typeof(v_input), 'nothing')),
      'code', 'child_input'), _start_child.now);
  end if;

  -- PHASE 1: the child run, once per parent step attempt.
  v_key := pg_catalog.format('rowflow:child:%s:%s:%s:%s', v_run.id, v_sr.step, v_sr.attempt,
                             (pg_catalog.date_part('epoch', v_sr.created_at) * 1000000)::bigint);
  insert into rowflow.runs as r (workflow, version, status, input, idempotency_key, priority, created_at, updated_at,
                                 started_by, parent_run_id, parent_step)
  values (v_workflow, v_version, 'queued', v_input, v_key, v_run.priority, _start_child.now, _start_child.now,
          v_run.started_by, v_run.id, v_sr.step)
  on conflict (workflow, idempotency_key) where idempotency_key is not null do nothing
  returning r.* into v_child;
  if v_child.id is null then
    select r.* into v_child from rowflow.runs as r where r.workflow = v_workflow and r.idempotency_key = v_key;
  end if;

  -- PHASE 2: the wait (no deadline job), its event, the wake-ups. A child
  -- found already ended (by its key) gets its rowflow:child job now.
  insert into rowflow.step_waits (run_id, step, kind, child_run_id, since)
  values (v_run.id, v_sr.step, 'child', v_child.id, _start_child.now);
  perform rowflow._wait_deadline(v_run, _start_child.ws, v_sr, null);
  if v_child.finished_at is not null then
    perform rowflow._add_step_jobs(array[row(v_run.id, v_sr.step, v_sr.attempt, null, null,
                                             v_run.priority)::rowflow.step_job], 'rowflow:child');
  end if;
  insert into rowflow.events (run_id, step, type, attempt, data, at)
  values (v_run.id, v_sr.step, 'step_waiting', v_sr.attempt,
          pg_catalog.jsonb_build_object('for', 'child', 'child', v_child.id, 'workflow', v_workflow,
                                        'version', v_child.version), _start_child.now);
  perform rowflow._wake_all(0, 1, pg_catalog.jsonb_build_object('run', v_child.id));
  perform rowflow._notify(pg_catalog.jsonb_build_object('run', v_run.id));
  return pg_catalog.jsonb_build_object('ok', true, 'outcome', 'waiting', 'child', v_child.id);
end;
$$;
comment on function rowflow._start_child(rowflow.runs, rowflow.workflow_steps, rowflow.step_runs, jsonb, jsonb, timestamptz) is
  'Internal: starts the child run of a child step (once per attempt: its idempotency key) and makes the step wait for it.';
select rowflow._allow('function rowflow._start_child(rowflow.runs, rowflow.workflow_steps, rowflow.step_runs, jsonb, jsonb, timestamptz)', '{}');

-- from sql/schema/78_waits/arm_step.sql
create or replace function rowflow.arm_step(run_id bigint, step text, attempt int, worker_id text default null,
  now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(arm_step.now, pg_catalog.statement_timestamp());
  v_run rowflow.runs;
  v_sr rowflow.step_runs;
  v_ws rowflow.workflow_steps;
  v_sw rowflow.step_waits;
  v_wait jsonb;
  v_ctx jsonb;
  v_at timestamptz;
  v_until timestamptz;
  v_signal rowflow.signals;
  v_assignee text;
  v_task bigint;
  v_job bigint;
  v_on jsonb;
  v_answer jsonb;
  v_xids xid[];
begin
  -- GUARD: a worker; lock order run → step; the step is queued with this
  -- attempt, and (untrusted) its job is locked by worker_id.
  perform rowflow._require('{worker}');
  if arm_step.worker_id is null and not rowflow._trusted() then
    raise exception 'arm_step: worker_id is required: the worker whose graphile-worker pool holds the job'
      using errcode = '22023';
  end if;
  select r.* into v_run from rowflow.runs as r where r.id = arm_step.run_id for no key update;
  select sr.* into v_sr from rowflow.step_runs as sr
  where sr.run_id = arm_step.run_id and sr.step = arm_step.step and sr.kind = 'step' for update;
  if not found or v_run.status is distinct from 'running' or v_sr.status <> 'queued' or v_sr.attempt <> arm_step.attempt
     or (not rowflow._trusted()
         and not exists (select 1 from graphile_worker._private_jobs as j
                         where j.id = v_sr.job_id and j.locked_by = arm_step.worker_id)) then
    return (select f.refusal from rowflow._refusals(array[arm_step.run_id], array[arm_step.step], array[arm_step.attempt],
                                                    array[1], array['queued'],
                                                    case when not rowflow._trusted() then arm_step.worker_id end) as f);
  end if;
  select ws.* into v_ws from rowflow.workflow_steps as ws
  where ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = arm_step.step;
  v_wait := v_ws.wait;
  v_ctx := pg_catalog.jsonb_build_object('input', v_run.input,
                                         'steps', rowflow._deps_outputs(v_run.id, v_ws.depends_on));
  select w.* into v_sw from rowflow.step_waits as w where w.run_id = v_run.id and w.step = arm_step.step;

  if v_sw.run_id is null then
    -- PHASE 1: startAt still ahead → sleep until then.
    v_at := rowflow._start_time(v_wait, v_ctx);
    if v_at > v_now then
      v_job := (rowflow._add_step_jobs(array[row(v_run.id, v_sr.step, v_sr.attempt,
                  rowflow._queue_name(v_ws.queue_name, v_ws.queue_key, v_ctx), v_at, v_ws.priority + v_run.priority
                )::rowflow.step_job], case when v_wait ->> 'kind' = 'time' then 'rowflow:step' else 'rowflow:wait' end))[1];
      update rowflow.step_runs as sr set job_id = v_job where sr.run_id = v_run.id and sr.step = v_sr.step;
      insert into rowflow.events (run_id, step, type, attempt, data, at)
      values (v_run.id, v_sr.step, 'step_sleeping', v_sr.attempt, pg_catalog.jsonb_build_object('until', v_at), v_now);
      return pg_catalog.jsonb_build_object('ok', true, 'outcome', 'sleeping', 'until', v_at);
    end if;
    if v_wait ? 'startAt' and v_at is null then
      -- Nothing usable at the path: the step does not wait; say so.
      insert into rowflow.events (run_id, step, type, attempt, data, at)
      values (v_run.id, v_sr.step, 'step_sleeping', v_sr.attempt,
              pg_catalog.jsonb_build_object('until', null, 'note',
                pg_catalog.format('startAt %s gave no time; starting now', v_wait ->> 'startAt')), v_now);
    end if;

    -- PHASE 2: a handler step runs now, as any step.
    if v_wait ->> 'kind' = 'time' then
      v_job := (rowflow._add_step_jobs(array[row(v_run.id, v_sr.step, v_sr.attempt,
                  rowflow._queue_name(v_ws.queue_name, v_ws.queue_key, v_ctx), v_now, v_ws.priority + v_run.priority
                )::rowflow.step_job]))[1];
      update rowflow.step_runs as sr set job_id = v_job where sr.run_id = v_run.id and sr.step = v_sr.step;
      return '{"ok": true, "outcome": "queued"}'::jsonb;
    end if;

    -- PHASE 3: what it waits for may be there already.
    if v_wait ->> 'kind' = 'signal' then
      update rowflow.signals as s set consumed_at = v_now, step = v_sr.step
      where s.id = (select s2.id from rowflow.signals as s2
                    where s2.run_id = v_run.id and s2.name = v_wait ->> 'signal' and s2.consumed_at is null
                    order by s2.id limit 1)
      returning s.* into v_signal;
      if found then
        v_answer := rowflow._settle_step(v_run.id, v_sr.step, 'succeeded', v_signal.payload, v_now, 'signal_received',
          pg_catalog.jsonb_build_object('signal', v_signal.name, 'signalId', v_signal.id, 'by', v_signal.sent_by,
                                        'sentAt', v_signal.sent_at));
        return pg_catalog.jsonb_build_object('ok', true, 'outcome', 'succeeded', 'signal', v_signal.id) || v_answer;
      end if;
    end if;

    if v_wait ->> 'kind' = 'row' then
      v_answer := rowflow._arm_row(v_run.id, v_sr.step, v_sr.attempt, v_wait, v_ctx, v_now);
      if v_answer is not null then
        return v_answer;
      end if;
    end if;

    -- A child step starts its child run and waits for it (no deadline).
    if v_wait ->> 'kind' = 'child' then
      return rowflow._start_child(v_run, v_ws, v_sr, v_wait, v_ctx, v_now);
    end if;

    -- PHASE 4: wait, until the deadline if there is one.
    v_until := v_now + (v_wait ->> 'timeout')::interval;
    if v_wait ->> 'kind' = 'human' then
      v_assignee := coalesce(v_wait ->> 'assignee',
        jsonb_path_query_first(v_ctx, (v_wait ->> 'assigneePath')::jsonpath, '{}', true) #>> '{}');
      if coalesce(length(v_assignee), 0) not between 1 and 200 then
        return rowflow._fail_wait(v_run.id, v_sr.step, v_sr.attempt, pg_catalog.jsonb_build_object(
          'message', pg_catalog.format('human.assignee %s gave no person or group (1-200 characters)',
                                       v_wait ->> 'assigneePath'), 'code', 'no_assignee'), v_now);
      end if;
      insert into rowflow.human_tasks (run_id, step, workflow, title, description, assignee, form, due_at, escalate_to,
                                       created_at)
      values (v_run.id, v_sr.step, v_run.workflow, v_wait ->> 'title', v_wait ->> 'description', v_assignee,
              coalesce(v_wait -> 'form', '{}'), v_until, v_wait ->> 'escalateTo', v_now)
      returning id into v_task;
      insert into rowflow.events (run_id, step, type, attempt, data, at)
      values (v_run.id, v_sr.step, 'task_created', v_sr.attempt,
              pg_catalog.jsonb_build_object('task', v_task, 'assignee', v_assignee, 'due', v_until), v_now);
    end if;
    insert into rowflow.step_waits (run_id, step, kind, signal, task_id, relid, since, until, confirmed)
    values (v_run.id, v_sr.step, v_wait ->> 'kind', v_wait ->> 'signal', v_task, (v_wait ->> 'relid')::oid, v_now,
            v_until, v_wait ->> 'kind' <> 'row');
    -- A row wait is confirmed by the next rowflow:wait job (PHASE 5), once
    -- this transaction committed; its deadline job comes after.
    perform rowflow._wait_deadline(v_run, v_ws, v_sr, case when v_wait ->> 'kind' = 'row' then v_now else v_until end);
    insert into rowflow.events (run_id, step, type, attempt, data, at)
    values (v_run.id, v_sr.step, 'step_waiting', v_sr.attempt,
            pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('for', v_wait ->> 'kind',
              'signal', v_wait ->> 'signal', 'task', v_task, 'until', v_until)), v_now);
    perform rowflow._notify(pg_catalog.jsonb_build_object('run', v_run.id));
    return pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('ok', true, 'outcome', 'waiting', 'task', v_task,
                                                                      'until', v_until));
  end if;

  -- PHASE 5: a row wait is confirmed once every transaction that was
  -- writing its table when the wait committed has ended (step_waits.xids:
  -- the first such job runs after the commit; a writer holds its
  -- RowExclusiveLock on the table until it ends, so pg_locks lists them
  -- all): a writer whose trigger ran before the wait was visible may have
  -- committed a matching row since, so the condition is checked again each
  -- time, every 100 ms at first, backing off to 10 s for a long writer.
  if not v_sw.confirmed then
    v_xids := case when v_sw.xids is null
      then array(select distinct x.transactionid from pg_catalog.pg_locks as l
                 join pg_catalog.pg_locks as x on x.pid = l.pid and x.locktype = 'transactionid' and x.granted
                 where l.locktype = 'relation' and l.relation = v_sw.relid and l.mode = 'RowExclusiveLock'
                   and l.granted and l.pid <> pg_catalog.pg_backend_pid())
      else array(select x from unnest(v_sw.xids) as x
                 where exists (select 1 from pg_catalog.pg_locks as l
                               where l.locktype = 'transactionid' and l.transactionid = x)) end;
    v_answer := rowflow._arm_row(v_run.id, v_sr.step, v_sr.attempt, v_wait, v_ctx, v_now);
    if v_answer is not null then
      return v_answer;
    end if;
    update rowflow.step_waits as w set confirmed = cardinality(v_xids) = 0, xids = nullif(v_xids, '{}')
    where w.run_id = v_run.id and w.step = v_sr.step;
    perform rowflow._wait_deadline(v_run, v_ws, v_sr,
                                   case when cardinality(v_xids) = 0 then v_sw.until
                                        else v_now + least(interval '10 s', greatest(interval '100 ms',
                                                                                     (v_now - v_sw.since) / 10)) end);
    return pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('ok', true, 'outcome', 'waiting',
      'confirmed', cardinality(v_xids) = 0, 'until', v_sw.until));
  end if;

  -- PHASE 6: the deadline job. Early (a stale job) changes nothing.
  if v_sw.until is null or v_sw.until > v_now then
    return pg_catalog.jsonb_build_object('ok', false, 'reason', 'not_due', 'until', v_sw.until);
  end if;
  if v_sw.kind = 'human' and v_wait ->> 'escalateTo' is not null
     and (select t.escalated_at is null from rowflow.human_tasks as t where t.id = v_sw.task_id) then
    v_until := v_now + (v_wait ->> 'timeout')::interval;
    update rowflow.human_tasks as t
    set assignee = t.escalate_to, status = 'open', claimed_by = null, claimed_at = null, escalated_at = v_now,
        due_at = v_until
    where t.id = v_sw.task_id
    returning t.assignee into v_assignee;
    update rowflow.step_waits as w set until = v_until where w.run_id = v_run.id and w.step = v_sr.step;
    perform rowflow._wait_deadline(v_run, v_ws, v_sr, v_until);
    insert into rowflow.events (run_id, step, type, attempt, data, at)
    values (v_run.id, v_sr.step, 'task_escalated', v_sr.attempt,
            pg_catalog.jsonb_build_object('task', v_sw.task_id, 'to', v_assignee, 'due', v_until), v_now);
    perform rowflow._notify(pg_catalog.jsonb_build_object('run', v_run.id));
    return pg_catalog.jsonb_build_object('ok', true, 'outcome', 'escalated', 'task', v_sw.task_id, 'to', v_assignee,
                                         'until', v_until);
  end if;
  update rowflow.human_tasks as t set status = 'expired' where t.id = v_sw.task_id and t.status in ('open', 'claimed');
  v_on := coalesce(v_wait -> 'onTimeout', '"fail"');
  if v_on = '"fail"' then
    return rowflow._fail_wait(v_run.id, v_sr.step, v_sr.attempt, pg_catalog.jsonb_build_object(
      'message', pg_catalog.format('timed out waiting for %s after %s',
                                   case v_sw.kind when 'signal' then 'signal ' || v_sw.signal
                                                  when 'human' then 'task ' || v_sw.task_id
                                                  else 'a row of ' || (v_wait ->> 'table') end,
                                   v_wait ->> 'timeout'),
      'code', 'timeout', 'waitedSince', v_sw.since), v_now);
  end if;
  v_answer := rowflow._settle_step(v_run.id, v_sr.step, case when v_on = '"skip"' then 'skipped' else 'succeeded' end,
                                   v_on -> 'output', v_now, 'step_timed_out',
                                   pg_catalog.jsonb_build_object('onTimeout', v_on, 'waitedSince', v_sw.since));
  return pg_catalog.jsonb_build_object('ok', true, 'outcome', 'timed_out') || v_answer;
end;
$$;
comment on function rowflow.arm_step(bigint, text, int, text, timestamptz) is
  'The rowflow:wait job: sleeps a step until its startAt, starts its wait (signal, human task) or applies its deadline (escalate, onTimeout).';
select rowflow._allow('function rowflow.arm_step(bigint, text, int, text, timestamptz)', '{worker}');

-- from sql/schema/78_waits/settle_child.sql
create or replace function rowflow.settle_child(run_id bigint, step text, attempt int, worker_id text default null,
  now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(settle_child.now, pg_catalog.statement_timestamp());
  v_run rowflow.runs;
  v_sr rowflow.step_runs;
  v_sw rowflow.step_waits;
  v_child rowflow.runs;
  v_output jsonb;
  v_answer jsonb;
begin
  -- GUARD: a worker; lock order run → step; the step waits for a child at
  -- this attempt, and the child has ended.
  perform rowflow._require('{worker}');
  select r.* into v_run from rowflow.runs as r where r.id = settle_child.run_id for no key update;
  select sr.* into v_sr from rowflow.step_runs as sr
  where sr.run_id = settle_child.run_id and sr.step = settle_child.step and sr.kind = 'step' for update;
  if not found or v_run.status is distinct from 'running' or v_sr.status <> 'queued'
     or v_sr.attempt <> settle_child.attempt then
    return (select f.refusal from rowflow._refusals(array[settle_child.run_id], array[settle_child.step],
                                                    array[settle_child.attempt], array[1], array['queued']) as f);
  end if;
  select w.* into v_sw from rowflow.step_waits as w
  where w.run_id = v_run.id and w.step = v_sr.step and w.kind = 'child';
  if not found then
    return '{"ok": false, "reason": "not_waiting"}'::jsonb;
  end if;
  select c.* into v_child from rowflow.runs as c where c.id = v_sw.child_run_id;
  if v_child.finished_at is null then
    return pg_catalog.jsonb_build_object('ok', false, 'reason', 'child_active', 'child', v_sw.child_run_id,
                                         'childStatus', v_child.status);
  end if;

  -- PHASE 1: a child that succeeded: its final steps' outputs.
  if v_child.status = 'succeeded' then
    select coalesce(pg_catalog.jsonb_object_agg(ws.name, sr.output order by ws.name), '{}') into v_output
    from rowflow.workflow_steps as ws
    left join rowflow.step_runs as sr on sr.run_id = v_child.id and sr.step = ws.name
    where ws.workflow = v_child.workflow and ws.version = v_child.version and cardinality(ws.dependents) = 0;
    v_answer := rowflow._settle_step(v_run.id, v_sr.step, 'succeeded', v_output, v_now, 'child_succeeded',
      pg_catalog.jsonb_build_object('child', v_child.id, 'workflow', v_child.workflow, 'version', v_child.version));
    return pg_catalog.jsonb_build_object('ok', true, 'outcome', 'succeeded', 'child', v_child.id) || v_answer;
  end if;

  -- PHASE 2: a child that failed or was cancelled fails the attempt; the
  -- step's retry policy decides (a retry is a rowflow:wait job: a new child).
  delete from rowflow.step_waits as w where w.run_id = v_run.id and w.step = v_sr.step;
  update rowflow.step_runs as sr set status = 'running', started_at = coalesce(sr.started_at, v_sw.since),
    job_id = null
  where sr.run_id = v_run.id and sr.step = v_sr.step;
  v_answer := rowflow._fail_attempt(v_run.id, v_sr.step, v_sr.attempt, pg_catalog.jsonb_strip_nulls(
    pg_catalog.jsonb_build_object(
      'message', pg_catalog.format('child run %s (%s) %s%s', v_child.id, v_child.workflow, v_child.status,
                                   coalesce(': ' || coalesce(v_child.error -> 'error' ->> 'message',
                                                             v_child.error ->> 'reason'), '')),
      'code', 'child_' || v_child.status, 'child', v_child.id, 'childError', v_child.error)),
    true, null, v_now);
  return v_answer || pg_catalog.jsonb_build_object('child', v_child.id);
end;
$$;
comment on function rowflow.settle_child(bigint, text, int, text, timestamptz) is
  'The rowflow:child job: a child step takes its ended child run''s outcome (succeeded with the child''s output, or a failed attempt).';
select rowflow._allow('function rowflow.settle_child(bigint, text, int, text, timestamptz)', '{worker}');

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
    where sr.run_id = v_run.id and sr.kind <> 'step'
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
           (select c.workflow || ', ' || c.status from rowflow.runs as c where c.id = w.child_run_id) as wait_child_of
    from s
    left join rowflow.step_waits as w on w.run_id = v_run.id and w.step = s.step and s.row_kind = 'step'
    left join rowflow.human_tasks as t on t.id = w.task_id
    left join graphile_worker._private_jobs as j on j.id = s.job_id
    left join graphile_worker._private_job_queues as q on q.id = j.job_queue_id
    where s.status in ('pending', 'queued', 'running')
  )
  select x.step, x.status,
    case
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
      'until', x.wait_until, 'childRunId', x.wait_child))
  from x
  order by case x.row_kind when 'step' then 0 else 1 end, x.step;
end;
$$;
comment on function rowflow.explain_run(bigint, timestamptz, interval) is
  'Why each unfinished step of a run is not running (or where it runs): code, sentence and figures. RF023 if the run is unknown.';
select rowflow._allow('function rowflow.explain_run(bigint, timestamptz, interval)', '{operator,viewer}');

-- The triggers, once their functions exist (sql/schema/78_waits/_child_ended.sql, _cancel_child.sql).
create trigger rowflow_child_ended
after update of status on rowflow.runs
for each row
when (new.parent_run_id is not null and new.finished_at is not null and old.finished_at is null)
execute function rowflow.tg_runs__child_ended();
comment on trigger rowflow_child_ended on rowflow.runs is
  'A child run ended: queue the rowflow:child job of its parent step (rowflow.settle_child).';

create trigger rowflow_child_cancel
after delete on rowflow.step_waits
for each row
when (old.kind = 'child')
execute function rowflow.tg_step_waits__cancel_child();
comment on trigger rowflow_child_cancel on rowflow.step_waits is
  'A child wait ended while its child run is active (the parent was cancelled or failed, the step skipped): cancel the child.';

-- The rowflow:child task row (sql/schema/65_jobs/_step_task_id.sql).
insert into graphile_worker._private_tasks (identifier) values ('rowflow:child') on conflict do nothing;
