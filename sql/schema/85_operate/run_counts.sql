-- rowflow.run_counts(workflow, since) → one row: how many runs, by status
--
-- The batch summary: `select * from rowflow.run_counts('orders', now() - interval '1 hour')`
-- answers total, active (queued + running + compensating) and one count per
-- status, for one workflow (null: all) and the runs created at or after
-- `since` (null: all). Always one row, zeros when nothing matches. A batch is
-- done when `active` is 0; client.waitForRuns and `rowflow wait` poll it.
--
-- SECURITY INVOKER over rowflow.visible_runs, like runs_for: each role counts
-- the runs it may see (an app its own). It scans runs: the table has no
-- index on workflow or created_at on purpose (every index costs every start,
-- 20_tables/20_runs.sql); 100,000 runs count in tens of milliseconds.
create or replace function rowflow.run_counts(workflow text default null, since timestamptz default null)
returns table (total bigint, active bigint, queued bigint, running bigint, compensating bigint,
               succeeded bigint, failed bigint, cancelled bigint)
language sql
stable
set search_path to ''
as $$
  select pg_catalog.count(*),
         pg_catalog.count(*) filter (where r.status in ('queued', 'running', 'compensating')),
         pg_catalog.count(*) filter (where r.status = 'queued'),
         pg_catalog.count(*) filter (where r.status = 'running'),
         pg_catalog.count(*) filter (where r.status = 'compensating'),
         pg_catalog.count(*) filter (where r.status = 'succeeded'),
         pg_catalog.count(*) filter (where r.status = 'failed'),
         pg_catalog.count(*) filter (where r.status = 'cancelled')
  from rowflow.visible_runs as r
  where (run_counts.workflow is null or r.workflow = run_counts.workflow)
    and (run_counts.since is null or r.created_at >= run_counts.since);
$$;
comment on function rowflow.run_counts(text, timestamptz) is
  'How many runs (of workflow, created at or after since; null: all) the caller may see: total, active (queued + running + compensating) and one count per status. One row.';
select rowflow._allow('function rowflow.run_counts(text, timestamp with time zone)', '{app,operator,viewer}');
