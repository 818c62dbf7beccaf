-- run_counts.sql — batch visibility (issue #18, item 4): rowflow.run_counts(workflow, since)
-- answers how many runs there are by status, in one row, so a script, the CLI (`rowflow wait`)
-- and client.waitForRuns can tell when a batch is done (active = 0) without listing its runs.

-- from sql/schema/85_operate/run_counts.sql
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
