-- rowflow._compile_path(value, what) → jsonpath
--
-- Compiles a spec's SQL/JSON path (a step's "if", a queue key). Raises RF009
-- for a syntax error and for a reference to a variable ($name): no
-- evaluation context provides variables, so such a path would fail on every
-- run instead of once, here. Lax-mode paths never fail on missing keys;
-- strict-mode structural errors depend on the data and are allowed.
create or replace function rowflow._compile_path(value jsonb, what text)
returns jsonpath
language plpgsql immutable
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_path jsonpath;
begin
  if jsonb_typeof(_compile_path.value) is distinct from 'string' then
    raise exception '% must be a string holding a SQL/JSON path expression, got %',
      _compile_path.what, left(_compile_path.value::text, 200) using errcode = 'RF009';
  end if;
  begin
    v_path := (_compile_path.value #>> '{}')::jsonpath;
  exception when others then
    -- Any failure to compile (syntax 42601, a bad like_regex 2201B, …).
    raise exception '% is not a valid SQL/JSON path expression: % (%)',
      _compile_path.what, _compile_path.value::text, sqlerrm using errcode = 'RF009';
  end;
  begin
    -- Lax mode never fails on missing keys, but an unknown variable fails
    -- on every evaluation: find it now. Strict-mode structural errors are
    -- data-dependent and therefore allowed.
    perform jsonb_path_query_first('{"input": {}, "steps": {}}'::jsonb, v_path);
  exception
    when undefined_object then
      raise exception '% is not a valid SQL/JSON path expression: % (%)',
        _compile_path.what, _compile_path.value::text, sqlerrm using errcode = 'RF009';
    when others then
      null; -- data-dependent (strict mode etc.): fine at definition time
  end;
  return v_path;
end;
$$;
select rowflow._allow('function rowflow._compile_path(jsonb, text)', '{}');
