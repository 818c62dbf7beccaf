-- rowflow._tracestate(value) → a W3C tracestate to store beside a traceparent, or null
--
-- Kept only when it could be one (W3C Trace Context: at most 512
-- characters of printable ASCII; vendors' list members are parsed by the
-- tracing SDK that reads it back, which drops the ones it cannot parse).
-- Empty or unfit: null, never an error (see _traceparent).
create or replace function rowflow._tracestate(value text)
returns text
language plpgsql immutable
set search_path to ''
as $$
#variable_conflict use_column
begin
  if _tracestate.value is null or _tracestate.value = '' or pg_catalog.length(_tracestate.value) > 512
     or _tracestate.value !~ '^[\x20-\x7e]+$' then
    return null;
  end if;
  return _tracestate.value;
end;
$$;
comment on function rowflow._tracestate(text) is
  'Internal: a W3C tracestate (at most 512 printable ASCII characters), or null when unfit (ignored, never an error).';
select rowflow._allow('function rowflow._tracestate(text)', '{}');
