-- rowflow._form_problem(form, path, depth) → text
--
-- Checks, at definition time, that a human task's form is a JSON Schema of
-- the subset rowflow._form_errors enforces (docs/forms.md), and answers null
-- when it is, else the first problem, named by its JSON pointer from `path`:
-- 'form/properties/amount/type: unknown type "integr" (…)'.
--
-- Why a subset, and why unknown keywords are refused: Postgres has no JSON
-- Schema validator, so rowflow carries its own, small enough to read. A
-- keyword it does not enforce ("oneOf", "uri" formats, "minProperties") is
-- an error here rather than silently ignored, so nobody believes an answer
-- was checked against a rule that was never applied. Annotations (title,
-- description, default, examples, $schema, $comment) are accepted and ignored.
--
-- The checks run in a fixed order, so that the TypeScript twin
-- (src/definition/form-problem.ts) reports the same first problem: unknown
-- keywords first (in code point order), then the keywords in the order of
-- c_keywords, recursing into properties (in code point order of their
-- names), additionalProperties and items. Schemas nest at most 32 levels
-- (`depth` counts them), which also bounds _form_errors' recursion.
-- A pattern must compile as a Postgres regular expression (POSIX ARE, not
-- ECMAScript): an invalid one is caught here, never at complete_task.
create or replace function rowflow._form_problem(form jsonb, path text default 'form', depth int default 0)
returns text
language plpgsql immutable
set search_path to ''
as $$
#variable_conflict use_column
declare
  c_keywords constant text[] := array['type', 'enum', 'const', 'minimum', 'maximum', 'exclusiveMinimum',
    'exclusiveMaximum', 'minLength', 'maxLength', 'pattern', 'format', 'properties', 'required',
    'additionalProperties', 'items', 'minItems', 'maxItems', 'title', 'description', 'default',
    'examples', '$schema', '$comment'];
  c_types constant text[] := array['object', 'array', 'string', 'number', 'integer', 'boolean', 'null'];
  c_formats constant text[] := array['date-time', 'date', 'email'];
  v_s jsonb := _form_problem.form;
  v_p text := _form_problem.path;
  v_key text;
  v_val jsonb;
  v_elem jsonb;
  v_i int;
  v_seen text[];
  v_problem text;
begin
  -- GUARD: a schema nests at most 32 deep, and is an object or a boolean.
  if _form_problem.depth > 32 then
    return v_p || ': schemas nest deeper than 32 levels';
  end if;
  if pg_catalog.jsonb_typeof(v_s) = 'boolean' then
    return null;
  end if;
  if pg_catalog.jsonb_typeof(v_s) is distinct from 'object' then
    return v_p || ': a schema must be an object or a boolean, got ' || coalesce(pg_catalog.jsonb_typeof(v_s), 'nothing');
  end if;

  -- PHASE 1: no keyword outside the subset.
  select k into v_key
  from pg_catalog.jsonb_object_keys(v_s) as k
  where k <> all (c_keywords)
  order by k collate "C" limit 1;
  if v_key is not null then
    return v_p || '/' || rowflow._form_pointer(v_key) || ': unsupported keyword ' || pg_catalog.to_json(v_key)::text
      || ' (supported: ' || pg_catalog.array_to_string(c_keywords, ', ') || ')';
  end if;

  -- PHASE 2: each keyword's value, in c_keywords order.
  v_val := v_s -> 'type';
  if v_val is not null then
    if pg_catalog.jsonb_typeof(v_val) = 'string' then
      if (v_val #>> '{}') <> all (c_types) then
        return v_p || '/type: unknown type ' || v_val::text
          || ' (types: ' || pg_catalog.array_to_string(c_types, ', ') || ')';
      end if;
    elsif pg_catalog.jsonb_typeof(v_val) = 'array' and pg_catalog.jsonb_array_length(v_val) > 0 then
      v_seen := '{}';
      for v_elem, v_i in select e.value, e.ord - 1 from pg_catalog.jsonb_array_elements(v_val) with ordinality as e(value, ord) loop
        if pg_catalog.jsonb_typeof(v_elem) <> 'string' then
          return v_p || '/type/' || v_i || ': must be a type name (' || pg_catalog.array_to_string(c_types, ', ') || ')';
        elsif (v_elem #>> '{}') <> all (c_types) then
          return v_p || '/type/' || v_i || ': unknown type ' || v_elem::text
            || ' (types: ' || pg_catalog.array_to_string(c_types, ', ') || ')';
        elsif (v_elem #>> '{}') = any (v_seen) then
          return v_p || '/type/' || v_i || ': lists ' || v_elem::text || ' twice';
        end if;
        v_seen := v_seen || (v_elem #>> '{}');
      end loop;
    else
      return v_p || '/type: must be a type name or a non-empty array of type names';
    end if;
  end if;

  v_val := v_s -> 'enum';
  if v_val is not null and (pg_catalog.jsonb_typeof(v_val) <> 'array' or pg_catalog.jsonb_array_length(v_val) = 0) then
    return v_p || '/enum: must be a non-empty array of the allowed values';
  end if;

  foreach v_key in array array['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'] loop
    v_val := v_s -> v_key;
    continue when v_val is null;
    if pg_catalog.jsonb_typeof(v_val) <> 'number' then
      return v_p || '/' || v_key || ': must be a number';
    end if;
    begin
      perform (v_val #>> '{}')::float8;
    exception when numeric_value_out_of_range then
      return v_p || '/' || v_key || ': must be a number within the range of a double';
    end;
  end loop;

  foreach v_key in array array['minLength', 'maxLength'] loop
    v_val := v_s -> v_key;
    continue when v_val is null;
    if pg_catalog.jsonb_typeof(v_val) <> 'number' or (v_val #>> '{}')::numeric % 1 <> 0
       or (v_val #>> '{}')::numeric not between 0 and 2147483647 then
      return v_p || '/' || v_key || ': must be an integer from 0 to 2147483647';
    end if;
  end loop;

  v_val := v_s -> 'pattern';
  if v_val is not null then
    if pg_catalog.jsonb_typeof(v_val) <> 'string' then
      return v_p || '/pattern: must be a string holding a regular expression';
    end if;
    begin
      perform '' ~ (v_val #>> '{}');
    exception when invalid_regular_expression then
      return v_p || '/pattern: ' || sqlerrm || ' (patterns are POSIX regular expressions, not ECMAScript)';
    end;
  end if;

  v_val := v_s -> 'format';
  if v_val is not null and (pg_catalog.jsonb_typeof(v_val) <> 'string' or (v_val #>> '{}') <> all (c_formats)) then
    return v_p || '/format: unknown format ' || rowflow._form_json(v_val)
      || ' (formats: ' || pg_catalog.array_to_string(c_formats, ', ') || ')';
  end if;

  v_val := v_s -> 'properties';
  if v_val is not null then
    if pg_catalog.jsonb_typeof(v_val) <> 'object' then
      return v_p || '/properties: must be an object mapping property names to schemas';
    end if;
    for v_key in select k from pg_catalog.jsonb_object_keys(v_val) as k order by k collate "C" loop
      v_problem := rowflow._form_problem(v_val -> v_key, v_p || '/properties/' || rowflow._form_pointer(v_key),
                                         _form_problem.depth + 1);
      if v_problem is not null then
        return v_problem;
      end if;
    end loop;
  end if;

  v_val := v_s -> 'required';
  if v_val is not null then
    if pg_catalog.jsonb_typeof(v_val) <> 'array' then
      return v_p || '/required: must be an array of property names';
    end if;
    v_seen := '{}';
    for v_elem, v_i in select e.value, e.ord - 1 from pg_catalog.jsonb_array_elements(v_val) with ordinality as e(value, ord) loop
      if pg_catalog.jsonb_typeof(v_elem) <> 'string' then
        return v_p || '/required/' || v_i || ': must be a property name (a string)';
      elsif (v_elem #>> '{}') = any (v_seen) then
        return v_p || '/required/' || v_i || ': lists ' || v_elem::text || ' twice';
      end if;
      v_seen := v_seen || (v_elem #>> '{}');
    end loop;
  end if;

  foreach v_key in array array['additionalProperties', 'items'] loop
    continue when not v_s ? v_key;
    v_problem := rowflow._form_problem(v_s -> v_key, v_p || '/' || v_key, _form_problem.depth + 1);
    if v_problem is not null then
      return v_problem;
    end if;
  end loop;

  foreach v_key in array array['minItems', 'maxItems'] loop
    v_val := v_s -> v_key;
    continue when v_val is null;
    if pg_catalog.jsonb_typeof(v_val) <> 'number' or (v_val #>> '{}')::numeric % 1 <> 0
       or (v_val #>> '{}')::numeric not between 0 and 2147483647 then
      return v_p || '/' || v_key || ': must be an integer from 0 to 2147483647';
    end if;
  end loop;

  foreach v_key in array array['title', 'description', 'examples', '$schema', '$comment'] loop
    v_problem := case when v_key = 'examples' then 'array' else 'string' end;
    if pg_catalog.jsonb_typeof(v_s -> v_key) <> v_problem then
      return v_p || '/' || v_key || ': must be ' || case when v_key = 'examples' then 'an ' else 'a ' end || v_problem;
    end if;
  end loop;
  return null; -- const and default may be any value
end;
$$;
select rowflow._allow('function rowflow._form_problem(jsonb, text, int)', '{}');
