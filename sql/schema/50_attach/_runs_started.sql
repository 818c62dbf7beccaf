-- rowflow._runs_started(workflow, ids, waiting) → how many runs
--
-- After a generated trigger inserted queued runs: wakes workers and live
-- views (unless the trigger saw nobody waiting), and notes the ids for
-- pending_runs() in the transaction-local setting rowflow.pending_runs, as
-- ranges "lo-hi" of consecutive ids (a statement's ids are a few runs of
-- consecutive numbers: the sequence's cache is 100), rolled back with a
-- savepoint like any setting.
create or replace function rowflow._runs_started(workflow text, ids bigint[], waiting boolean default true)
returns int
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_n int := coalesce(cardinality(_runs_started.ids), 0);
  v_ranges text;
  v_woke int;
begin
  if v_n = 0 then
    return 0;
  end if;
  if _runs_started.waiting is not false then
    v_woke := rowflow._wake_all(0, v_n,
      case when v_n = 1 then pg_catalog.jsonb_build_object('run', _runs_started.ids[1])
           else pg_catalog.jsonb_build_object('workflow', _runs_started.workflow, 'started', v_n) end);
  end if;
  if v_n = 1 then
    v_ranges := _runs_started.ids[1] || '-' || _runs_started.ids[1];
  else
    select pg_catalog.string_agg(g.lo || '-' || g.hi, ',' order by g.lo) into v_ranges
    from (select min(t.id) as lo, max(t.id) as hi
          from (select x.id, x.id - row_number() over (order by x.id) as grp
                from unnest(_runs_started.ids) as x(id)) as t
          group by t.grp) as g;
  end if;
  v_ranges := pg_catalog.set_config('rowflow.pending_runs',
    coalesce(nullif(pg_catalog.current_setting('rowflow.pending_runs', true), '') || ',', '') || v_ranges, true);
  return v_n;
end;
$$;
comment on function rowflow._runs_started(text, bigint[], boolean) is
  'Internal: wake-ups (unless the caller saw nobody waiting) and pending_runs() bookkeeping after an attachment inserted queued runs.';
select rowflow._allow('function rowflow._runs_started(text, bigint[], boolean)', '{}');
