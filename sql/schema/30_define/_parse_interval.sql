-- rowflow._parse_interval(value, what) → interval
--
-- A spec interval (timeout, delay, backoff.base/max): a non-negative integer
-- number of milliseconds, or a string '<number> <unit>' with unit ms, s, m, h
-- or d. Anything else, and a value out of Postgres' interval range (1e21
-- milliseconds would otherwise be a bare 22008 naming nothing), raises RF010
-- naming the field (`what`). Null (option not given) is null.
create or replace function rowflow._parse_interval(value jsonb, what text)
returns interval
language plpgsql immutable
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_m text[];
  v_unit text;
begin
  if _parse_interval.value is null then
    return null; -- option not given
  end if;
  if jsonb_typeof(_parse_interval.value) = 'number' then
    if _parse_interval.value::text !~ '^\d+$' then
      raise exception '% must be a non-negative integer number of milliseconds or a string like "5 seconds", got %',
        _parse_interval.what, _parse_interval.value::text using errcode = 'RF010';
    end if;
    begin
      return (_parse_interval.value::text)::numeric * interval '1 millisecond';
    exception when others then
      raise exception '% is out of range: % milliseconds', _parse_interval.what, _parse_interval.value::text
        using errcode = 'RF010';
    end;
  end if;
  if jsonb_typeof(_parse_interval.value) = 'string' then
    v_m := pg_catalog.regexp_match(_parse_interval.value #>> '{}',
      '^(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hours?|d|days?)$');
    if v_m is not null then
      v_unit := case
        when v_m[2] in ('ms', 'millisecond', 'milliseconds') then '1 millisecond'
        when v_m[2] in ('s', 'sec', 'secs', 'second', 'seconds') then '1 second'
        when v_m[2] in ('m', 'min', 'mins', 'minute', 'minutes') then '1 minute'
        when v_m[2] in ('h', 'hour', 'hours') then '1 hour'
        else '1 day' end;
      begin
        return v_m[1]::numeric * v_unit::interval;
      exception when others then
        raise exception '% is out of range: %', _parse_interval.what, _parse_interval.value::text
          using errcode = 'RF010';
      end;
    end if;
  end if;
  raise exception '% must be a non-negative integer (milliseconds) or a string "<number> <unit>" with unit ms, s, m, h or d (e.g. "30 seconds"), got %',
    _parse_interval.what, left(_parse_interval.value::text, 200) using errcode = 'RF010';
end;
$$;
select rowflow._allow('function rowflow._parse_interval(jsonb, text)', '{}');
