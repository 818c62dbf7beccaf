-- rowflow._compile_wait(step, what, owner) → the step's compiled wait, or null
--
-- A step waits when its spec has "startAt" (a handler step that sleeps
-- until a time computed from its input or its dependencies' outputs), or
-- is a wait step: "wait" (a named signal), "human" (a task assigned to a
-- person), "waitFor" (a row of a business table) or "child" (a run of
-- another workflow: rowflow._compile_child). A wait step has no
-- task of its own: it settles with the signal's payload, the person's
-- answer or the row as its output. Returns what rowflow.arm_step needs,
-- parsed once here (docs/spec.md, "Waits"):
--   {"kind": "time" | "signal" | "human" | "row" | "child",
--    "startAt": "<path>", "offset": "<interval>",              -- any kind
--    "signal": "<name>",                                        -- signal
--    "assignee" | "assigneePath", "title", "description", "form",
--    "escalateTo",                                              -- human
--    "relid", "table", "check": "<function>",                   -- row
--    "workflow", "input": "<path>",                             -- child
--    "timeout": "<interval>", "onTimeout": "fail" | "skip" | {"output": …}}
-- "timeout" is the signal's or the row's timeout and the task's "due".
-- Errors: RF001 shape, RF002 unknown option, RF004 names, RF009 paths,
-- RF010 intervals, RF011/RF012 a waitFor table or condition
-- (rowflow._compile_row_wait).
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
