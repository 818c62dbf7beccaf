-- rowflow._run_input(input) → input
--
-- Checks one run input the way _queue_runs does (a JSON object of at most
-- 1 MiB of JSON text, RF022, same messages) and returns it: the generated
-- attachment triggers call it per row inside their INSERT … SELECT.
-- Stable, not immutable: a constant input expression must fail only the
-- statements in which a row qualifies, not at planning.
create or replace function rowflow._run_input(input jsonb)
returns jsonb
language plpgsql stable
set search_path to ''
as $$
#variable_conflict use_column
begin
  if pg_catalog.jsonb_typeof(_run_input.input) is distinct from 'object' then
    raise exception 'run input is %, not a JSON object; wrap values in an object like {"value": …}',
      coalesce(pg_catalog.jsonb_typeof(_run_input.input), 'null') using errcode = 'RF022';
  end if;
  -- JSON text is at most 6x the binary size: only large inputs pay for the
  -- text form. A value read from a stored column may be compressed, and
  -- pg_column_size then gives the compressed size.
  if (pg_catalog.pg_column_size(_run_input.input) > 174762
      or pg_catalog.pg_column_compression(_run_input.input) is not null)
     and pg_catalog.octet_length(_run_input.input::text) > 1048576 then
    raise exception 'run input is % bytes of JSON; the limit is 1 MiB (1048576 bytes): store large data in a table and pass its key',
      pg_catalog.octet_length(_run_input.input::text) using errcode = 'RF022';
  end if;
  return _run_input.input;
end;
$$;
comment on function rowflow._run_input(jsonb) is
  'Internal: checks a run input (JSON object, at most 1 MiB of JSON text; RF022) and returns it.';
select rowflow._allow('function rowflow._run_input(jsonb)', '{}');
