-- rowflow.pending_runs() → the runs attachment triggers started in this transaction
--
-- A preview without side effects: begin; update …; select * from
-- rowflow.pending_runs(); rollback; — the ids come from the
-- transaction-local setting rowflow.pending_runs (ranges "lo-hi", written by
-- the start functions; sql/schema/50_attach/_start_attached.sql). It reads them
-- through rowflow.visible_runs, so the setting (which the session can write)
-- shows nobody a run they could not read anyway.
create or replace function rowflow.pending_runs()
returns table (run_id bigint, workflow text, version int, input jsonb, priority smallint, status text,
               created_at timestamptz)
language sql stable
set search_path to ''
as $$
  select r.id, r.workflow, r.version, r.input, r.priority, r.status, r.created_at
  from (
    select distinct pg_catalog.split_part(x, '-', 1)::bigint as lo, pg_catalog.split_part(x, '-', 2)::bigint as hi
    from unnest(pg_catalog.string_to_array(
      nullif(pg_catalog.current_setting('rowflow.pending_runs', true), ''), ',')) as x
  ) as g
  join rowflow.visible_runs as r on r.id between g.lo and g.hi
  order by r.id;
$$;
comment on function rowflow.pending_runs() is
  'Runs started by attached triggers so far in the current transaction (preview: begin; update …; select * from rowflow.pending_runs(); rollback;).';
select rowflow._allow('function rowflow.pending_runs()', '{app,operator,viewer}');
