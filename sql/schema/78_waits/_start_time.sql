-- rowflow._start_time(wait, ctx) → when a step with "startAt" may start, or null
--
-- Evaluates the compiled startAt path (workflow_steps.wait) over
-- {"input", "steps"}: a JSON string is read as a timestamp (ISO 8601; a
-- time without an offset is UTC), a JSON number as milliseconds since the
-- epoch (JavaScript's Date.now()); then the offset ("before" is negative).
-- Anything else — nothing at the path, another type, a string that is no
-- time — is null: the step does not wait (rowflow.arm_step records why).
create or replace function rowflow._start_time(wait jsonb, ctx jsonb)
returns timestamptz
language plpgsql stable
set search_path to ''
set timezone to 'UTC'
as $$
#variable_conflict use_column
declare
  v_val jsonb;
begin
  if _start_time.wait ->> 'startAt' is null then
    return null;
  end if;
  v_val := jsonb_path_query_first(_start_time.ctx, (_start_time.wait ->> 'startAt')::jsonpath, '{}', true);
  begin
    return case jsonb_typeof(v_val)
      when 'string' then (v_val #>> '{}')::timestamptz
      when 'number' then pg_catalog.to_timestamp((v_val #>> '{}')::double precision / 1000)
    end + coalesce((_start_time.wait ->> 'offset')::interval, interval '0');
  exception when others then
    return null;
  end;
end;
$$;
comment on function rowflow._start_time(jsonb, jsonb) is
  'Internal: the time a step with startAt may start (its path over {input, steps}, plus offset), or null when the path gives no time.';
select rowflow._allow('function rowflow._start_time(jsonb, jsonb)', '{}');
