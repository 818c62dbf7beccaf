-- 000023_forms.sql — the form validator of human tasks (issue #17, item 4).
-- A human task's answer is checked against its form, a JSON Schema, by
-- complete_task; Postgres has no JSON Schema extension here, so rowflow
-- carries its own validator of a documented subset (docs/forms.md):
-- _form_problem refuses, at definition, a form using anything outside it
-- (so no keyword is silently unenforced), _form_errors lists every violation
-- of an answer by its JSON pointer; _form_json and _form_pointer render the
-- messages exactly as the TypeScript twin (src/definition/form-*.ts) does.
-- New internal functions only, owner's EXECUTE alone.

-- from sql/schema/30_define/_form_errors.sql
create or replace function rowflow._form_errors(form jsonb, value jsonb, path text default 'answer', depth int default 0)
returns text[]
language plpgsql immutable
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_s jsonb := _form_errors.form;
  v_v jsonb := coalesce(_form_errors.value, 'null'::jsonb);
  v_p text := _form_errors.path;
  v_t text := pg_catalog.jsonb_typeof(coalesce(_form_errors.value, 'null'::jsonb));
  v_errors text[] := '{}';
  v_types text[];
  v_num numeric;
  v_str text;
  v_len int;
  v_key text;
  v_elem jsonb;
  v_i int;
  v_m text[];
  v_ok boolean;
  v_ap jsonb;
begin
  -- GUARD: boolean schemas, depth.
  if _form_errors.depth > 32 then
    raise exception '%: the form nests deeper than 32 levels', v_p using errcode = 'RF001';
  end if;
  if pg_catalog.jsonb_typeof(v_s) = 'boolean' then
    return case when v_s = 'false'::jsonb then array[v_p || ': no value is allowed here'] else '{}'::text[] end;
  end if;
  if pg_catalog.jsonb_typeof(v_s) is distinct from 'object' then
    return '{}'; -- not a schema: _form_problem refuses it at definition
  end if;

  -- PHASE 1: type, alone when wrong.
  if v_s ? 'type' then
    v_types := case when pg_catalog.jsonb_typeof(v_s -> 'type') = 'string' then array[v_s ->> 'type']
                    else array(select pg_catalog.jsonb_array_elements_text(v_s -> 'type')) end;
    if not (v_t = any (v_types)
            or ('integer' = any (v_types) and case when v_t = 'number' then (v_v #>> '{}')::numeric % 1 = 0 else false end)) then
      return array[v_p || ': must be of type ' || pg_catalog.array_to_string(v_types, ' or ') || ', got ' || v_t];
    end if;
  end if;

  -- PHASE 2: enum and const (jsonb equality: 1 = 1.0, keys in any order).
  if v_s ? 'enum' and not exists (select from pg_catalog.jsonb_array_elements(v_s -> 'enum') as e(value) where e.value = v_v) then
    v_errors := v_errors || (v_p || ': must be one of ' || rowflow._form_json(v_s -> 'enum'));
  end if;
  if v_s ? 'const' and v_s -> 'const' <> v_v then
    v_errors := v_errors || (v_p || ': must be equal to ' || rowflow._form_json(v_s -> 'const'));
  end if;

  -- PHASE 3: the keywords of the value's type.
  if v_t = 'number' then
    v_num := (v_v #>> '{}')::numeric;
    if v_num < (v_s ->> 'minimum')::numeric then
      v_errors := v_errors || (v_p || ': must be >= ' || rowflow._form_json(v_s -> 'minimum'));
    end if;
    if v_num > (v_s ->> 'maximum')::numeric then
      v_errors := v_errors || (v_p || ': must be <= ' || rowflow._form_json(v_s -> 'maximum'));
    end if;
    if v_num <= (v_s ->> 'exclusiveMinimum')::numeric then
      v_errors := v_errors || (v_p || ': must be > ' || rowflow._form_json(v_s -> 'exclusiveMinimum'));
    end if;
    if v_num >= (v_s ->> 'exclusiveMaximum')::numeric then
      v_errors := v_errors || (v_p || ': must be < ' || rowflow._form_json(v_s -> 'exclusiveMaximum'));
    end if;

  elsif v_t = 'string' then
    v_str := v_v #>> '{}';
    v_len := pg_catalog.length(v_str);
    if v_len < (v_s ->> 'minLength')::numeric then
      v_errors := v_errors || (v_p || ': must have at least ' || rowflow._form_json(v_s -> 'minLength') || ' characters');
    end if;
    if v_len > (v_s ->> 'maxLength')::numeric then
      v_errors := v_errors || (v_p || ': must have at most ' || rowflow._form_json(v_s -> 'maxLength') || ' characters');
    end if;
    if v_s ? 'pattern' and not v_str ~ (v_s ->> 'pattern') then
      v_errors := v_errors || (v_p || ': must match the pattern ' || (v_s -> 'pattern')::text);
    end if;
    if v_s ->> 'format' in ('date', 'date-time') then
      v_m := pg_catalog.regexp_match(v_str, case v_s ->> 'format'
        when 'date' then '^([0-9]{4})-([0-9]{2})-([0-9]{2})$'
        else '^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?([Zz]|[+-]([0-9]{2}):([0-9]{2}))$' end);
      v_ok := v_m is not null and v_m[2]::int between 1 and 12 and v_m[3]::int between 1 and
        case when v_m[2]::int = 2 then
               case when (v_m[1]::int % 4 = 0 and v_m[1]::int % 100 <> 0) or v_m[1]::int % 400 = 0 then 29 else 28 end
             when v_m[2]::int in (4, 6, 9, 11) then 30 else 31 end;
      if v_ok and v_s ->> 'format' = 'date-time' then
        v_ok := v_m[4]::int <= 23 and v_m[5]::int <= 59 and v_m[6]::int <= 60
          and coalesce(v_m[9]::int <= 23 and v_m[10]::int <= 59, true);
      end if;
      if not v_ok then
        v_errors := v_errors || (v_p || case v_s ->> 'format'
          when 'date' then ': must be a date (YYYY-MM-DD)'
          else ': must be a date-time (RFC 3339, e.g. 2026-12-04T09:30:00Z)' end);
      end if;
    elsif v_s ->> 'format' = 'email'
          and v_str !~ '^[^@ \t\r\n]+@[^@ \t\r\n]+\.[^@ \t\r\n]+$' then
      v_errors := v_errors || (v_p || ': must be an email address');
    end if;

  elsif v_t = 'object' then
    for v_key in select e.value from pg_catalog.jsonb_array_elements_text(v_s -> 'required') with ordinality as e(value, ord)
                 order by e.ord loop
      if not v_v ? v_key then
        v_errors := v_errors || (v_p || ': missing required property ' || pg_catalog.to_json(v_key)::text);
      end if;
    end loop;
    for v_key in select k from pg_catalog.jsonb_object_keys(v_s -> 'properties') as k
                 where v_v ? k order by k collate "C" loop
      v_errors := v_errors || rowflow._form_errors(v_s -> 'properties' -> v_key, v_v -> v_key,
                                                   v_p || '/' || rowflow._form_pointer(v_key), _form_errors.depth + 1);
    end loop;
    v_ap := v_s -> 'additionalProperties';
    if v_ap is not null and v_ap <> 'true'::jsonb then
      for v_key in select k from pg_catalog.jsonb_object_keys(v_v) as k
                   where not coalesce(v_s -> 'properties' ? k, false) order by k collate "C" loop
        if v_ap = 'false'::jsonb then
          v_errors := v_errors || (v_p || ': unexpected property ' || pg_catalog.to_json(v_key)::text);
        else
          v_errors := v_errors || rowflow._form_errors(v_ap, v_v -> v_key,
                                                       v_p || '/' || rowflow._form_pointer(v_key), _form_errors.depth + 1);
        end if;
      end loop;
    end if;

  elsif v_t = 'array' then
    v_len := pg_catalog.jsonb_array_length(v_v);
    if v_len < (v_s ->> 'minItems')::numeric then
      v_errors := v_errors || (v_p || ': must have at least ' || rowflow._form_json(v_s -> 'minItems') || ' items');
    end if;
    if v_len > (v_s ->> 'maxItems')::numeric then
      v_errors := v_errors || (v_p || ': must have at most ' || rowflow._form_json(v_s -> 'maxItems') || ' items');
    end if;
    if v_s ? 'items' then
      for v_elem, v_i in select e.value, e.ord - 1 from pg_catalog.jsonb_array_elements(v_v) with ordinality as e(value, ord) loop
        v_errors := v_errors || rowflow._form_errors(v_s -> 'items', v_elem, v_p || '/' || v_i, _form_errors.depth + 1);
      end loop;
    end if;
  end if;
  return v_errors;
end;
$$;
select rowflow._allow('function rowflow._form_errors(jsonb, jsonb, text, int)', '{}');

-- from sql/schema/30_define/_form_json.sql
create or replace function rowflow._form_json(value jsonb)
returns text
language plpgsql immutable
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_x float8;
  v_text text;
begin
  case pg_catalog.jsonb_typeof(_form_json.value)
    when 'number' then
      begin
        v_x := (_form_json.value #>> '{}')::float8;
      exception when numeric_value_out_of_range then
        return _form_json.value::text;
      end;
      if v_x = 0 then
        return '0'; -- also -0, as String(-0)
      end if;
      v_text := v_x::text;
      if abs(v_x) >= 1e21 or abs(v_x) < 1e-6 then
        -- JavaScript's exponent form: 1.5e-7, 1e+21 (float8 prints 1.5e-07, 1e+21).
        return pg_catalog.regexp_replace(v_text, 'e([+-])0*([0-9])', 'e\1\2');
      end if;
      return (v_text::numeric)::text; -- plain digits: 1e+15 → 1000000000000000
    when 'array' then
      return '[' || coalesce((
        select pg_catalog.string_agg(rowflow._form_json(e.value), ',' order by e.ord)
        from pg_catalog.jsonb_array_elements(_form_json.value) with ordinality as e(value, ord)
      ), '') || ']';
    when 'object' then
      return '{' || coalesce((
        select pg_catalog.string_agg(pg_catalog.to_json(e.key)::text || ':' || rowflow._form_json(e.value),
                                     ',' order by e.key collate "C")
        from pg_catalog.jsonb_each(_form_json.value) as e
      ), '') || '}';
    else
      return _form_json.value::text; -- strings (escaped as JSON.stringify does), booleans, null
  end case;
end;
$$;
select rowflow._allow('function rowflow._form_json(jsonb)', '{}');

-- from sql/schema/30_define/_form_pointer.sql
create or replace function rowflow._form_pointer(name text)
returns text
language sql immutable strict
set search_path to ''
as $$
  select pg_catalog.replace(pg_catalog.replace(_form_pointer.name, '~', '~0'), '/', '~1');
$$;
select rowflow._allow('function rowflow._form_pointer(text)', '{}');

-- from sql/schema/30_define/_form_problem.sql
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
