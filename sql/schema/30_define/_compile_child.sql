-- rowflow._compile_child(spec, what) → the "child" part of a compiled wait
--
-- A child step ("child": {"workflow": "<name>", "input": "<path>"}) starts
-- a run of another workflow when it is reached and waits for it, holding
-- no worker slot (rowflow._start_child, rowflow.settle_child); the child's
-- outcome is the step's. Compiled for rowflow.arm_step as
--   {"kind": "child", "workflow": "<name>", "input": "<jsonpath>"}
-- "input" is a path over the step's {"input", "steps"} (its run's input
-- and its dependencies' outputs) and must give a JSON object when the step
-- is reached; the default "$.input" passes the run's own input on.
-- Whether the workflow exists is checked by define_workflow (RF015; a
-- workflow may name itself: recursion is bounded at run time, docs/spec.md
-- "Child workflows"). Errors: RF001 shape, RF002 unknown option, RF004 the
-- name, RF009 the path.
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
