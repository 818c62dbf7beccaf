-- rowflow.define_workflow(name, spec, owner) → version
--
-- Validates a workflow spec (docs/spec.md) and stores it: the version as
-- given (rowflow.workflow_versions) and its compiled form, one row per step
-- with every default filled in (rowflow.workflow_steps). A spec equal to the
-- latest version's returns that version, so running the same definitions at
-- every deploy (`rowflow migrate`, the worker's sync) creates nothing new.
--
-- Definitions are data, and SQL and TypeScript definitions go through the
-- same rules: this function is the authority, and the TypeScript schema
-- (src/definition/spec-schema.ts) mirrors it so that a bad spec fails in the
-- editor too; test/definition/spec-parity.test.ts runs the same cases
-- through both. Each rejection names the workflow, the step and the option,
-- with an RF0xx SQLSTATE (docs/sql-api.md, Errors), in the order of the
-- phases below: the first problem found is the one reported.
--
-- Rights (docs/security.md): SECURITY DEFINER, EXECUTE for rowflow's owner
-- only, which a DBA may grant to the roles that define workflows. A
-- workflow belongs to the role that defined it first (`owner`, default the
-- caller's current_user; the session must be a member of it), and only
-- members of that role (or of rowflow's owner) define new versions of it:
-- a role allowed to define its workflows cannot redefine another's, say an
-- attached one.
--
-- PHASE 2's cycle check is Kahn's algorithm over positions and edge arrays,
-- O(steps + dependencies); on a cycle it walks the blocked steps to print one
-- cycle in execution order. Measured: 1,000 steps took 12 s when each round
-- rescanned the whole spec (O(n³)); PHASE 1 accumulates into a jsonb[] (an
-- in-place append in plpgsql) instead of concatenating jsonb.
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
                       'queue', 'delay', 'if', 'compensate', 'startAt', 'wait', 'human', 'waitFor', 'child', 'map', 'mapErrors') then
        raise exception '%: unknown option %; allowed: name, task, dependsOn, attempts, backoff, timeout, priority, queue, delay, if, compensate, startAt, wait, human, waitFor, child, map, mapErrors',
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

    -- Map: the array the step runs over (sql/schema/30_define/_compile_map.sql).
    v_map := rowflow._compile_map(v_step, v_deps, v_where);

    v_norm := v_norm || jsonb_build_object(
      'map_path', v_map ->> 'path', 'map_errors', v_map ->> 'errors',
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
