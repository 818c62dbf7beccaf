-- rowflow._traceparent(value) → the W3C traceparent normalised to version 00, or null
--
-- A run's trace context (runs.traceparent, docs/observability.md "Traces")
-- comes from outside: start_run(s)' trace_context, or the transaction-local
-- setting rowflow.traceparent an application sets before a plain INSERT into
-- an attached table, often straight from an HTTP request's header. A value
-- that is not a valid traceparent is ignored (null), never an error: W3C
-- Trace Context asks a receiver to ignore a traceparent it cannot parse, and
-- a business write must not fail because of a tracing header.
--
-- Valid (W3C Trace Context, level 1): version-traceid-parentid-flags in
-- lower-case hex, version not ff, trace id and parent id not all zeros;
-- version 00 is exactly 55 characters, a later version may carry more
-- fields after a dash, of which the first four are kept (as version 00).
-- plpgsql, not SQL: a SQL function with SET search_path is planned on every
-- call. The attachment path calls it only when the setting is not empty.
create or replace function rowflow._traceparent(value text)
returns text
language plpgsql immutable
set search_path to ''
as $$
#variable_conflict use_column
declare
  v text := _traceparent.value;
begin
  if v is null or pg_catalog.length(v) < 55 or pg_catalog.length(v) > 512
     or v !~ '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}(-|$)'
     or pg_catalog.left(v, 2) = 'ff' or (pg_catalog.left(v, 2) = '00' and pg_catalog.length(v) <> 55)
     or pg_catalog.substr(v, 4, 32) = '00000000000000000000000000000000'
     or pg_catalog.substr(v, 37, 16) = '0000000000000000' then
    return null;
  end if;
  return '00' || pg_catalog.substr(v, 3, 53);
end;
$$;
comment on function rowflow._traceparent(text) is
  'Internal: a W3C traceparent normalised to version 00, or null when it is not valid (ignored, never an error).';
select rowflow._allow('function rowflow._traceparent(text)', '{}');
