-- rowflow._form_json(value) → text
--
-- Renders a JSON value for the messages of rowflow._form_problem and
-- rowflow._form_errors ("must be one of [\"low\",\"high\"]", "must be <= 1000")
-- exactly as the TypeScript twin (src/definition/form-json.ts) renders the
-- same value once parsed, so the two give identical messages: compact, object
-- keys in code point order (jsonb keeps its own order, JavaScript keeps
-- insertion order; neither is the user's), strings escaped as JSON.stringify
-- escapes them, and numbers as JavaScript prints a double: 1000.0 → 1000,
-- 1e3 → 1000, 1e-7 → 1e-7, 1e21 → 1e+21. Postgres' float8 output is the
-- shortest text that reads back as the same double, as JavaScript's is, so
-- only the notation needs mapping. A number beyond a double's range (which
-- JavaScript cannot hold) is printed as written.
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
