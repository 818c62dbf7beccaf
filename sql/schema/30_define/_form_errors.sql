-- rowflow._form_errors(form, value, path, depth) → text[]
--
-- Validates a human task's answer against its form (a JSON Schema of the
-- subset docs/forms.md lists, checked by rowflow._form_problem when the
-- workflow was defined): '{}' when `value` conforms, else every violation,
-- each named by the JSON pointer of the offending value from `path`:
-- 'answer/amount: must be <= 1000', 'answer: missing required property "approved"'.
--
-- Why every violation and not the first: a person fixing a form wants all
-- of them at once. Why a fixed order: the TypeScript twin
-- (src/definition/form-schema.ts) gives the same list, in the same order, so
-- a client can check an answer before sending it and see what SQL would say.
-- At each schema: a wrong type is the only error reported there (the other
-- keywords apply to a type the value does not have); then enum, const, the
-- keywords of the value's type; for objects required (in its order), then
-- properties (in code point order of their names), then the other
-- properties against additionalProperties (in code point order); for arrays
-- minItems, maxItems, then items in index order.
--
-- Numbers are compared exactly (numeric); strings are measured in
-- characters; pattern is Postgres' `~` (POSIX ARE, a search unless anchored).
-- Recursion follows the form, whose nesting _form_problem bounds to 32; a
-- deeper form (never defined) raises RF001 rather than recursing on.
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
