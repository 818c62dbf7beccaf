-- rowflow._compile_map(step, deps, what) → {"path": jsonpath text, "errors": "fail" | "collect"} or null
--
-- Compiles a step's "map" (docs/spec.md, Map steps): the SQL/JSON path of
-- the array the step runs its task over, one element per step run. The
-- path must start at the run input ($.input…) or at the output of one of
-- the step's own dependencies ($.steps.<dependency>…): a map over a step
-- that is not a dependency would read an output that does not exist yet
-- when the step becomes ready (RF013). A map step runs a task when it is
-- ready, so it cannot wait, be delayed or sit in a named queue (RF001: its
-- elements are queued at once). "mapErrors" ("fail", the default, or
-- "collect") needs "map". Null for a step without "map".
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
