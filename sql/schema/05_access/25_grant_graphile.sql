-- rowflow._grant_graphile() — what rowflow_worker needs of graphile-worker
--
-- A rowflow worker runs graphile-worker, which fetches, completes and fails
-- jobs with plain SQL on its own tables and has no finer privilege model:
-- the worker role gets USAGE on schema graphile_worker and DML on its tables
-- (docs/security.md says what that means for a compromised worker role).
-- graphile-worker enables row-level security on its private tables without
-- policies (to hide them from PostgREST and PostGraphile), which leaves
-- every role but their owner an empty table: a policy per table lets the
-- worker role see and change every row, as their owner does.
-- rowflow's own functions write graphile's tables as the owner. Called when
-- rowflow's roles are set up and by every `rowflow migrate` (a graphile-worker
-- upgrade may add tables). Nothing when graphile-worker is not installed.
create or replace function rowflow._grant_graphile()
returns void
language plpgsql
set search_path to ''
as $$
declare
  v_worker name := rowflow._role('worker');
  v_table regclass;
begin
  if pg_catalog.to_regnamespace('graphile_worker') is null then
    return;
  end if;
  execute pg_catalog.format('grant usage on schema graphile_worker to %I', v_worker);
  execute pg_catalog.format('grant select, insert, update, delete on all tables in schema graphile_worker to %I', v_worker);
  execute pg_catalog.format('grant usage, select, update on all sequences in schema graphile_worker to %I', v_worker);
  execute pg_catalog.format('grant execute on all functions in schema graphile_worker to %I', v_worker);
  for v_table in
    select c.oid::regclass from pg_catalog.pg_class as c
    where c.relnamespace = 'graphile_worker'::regnamespace and c.relkind = 'r' and c.relrowsecurity
      and not exists (select 1 from pg_catalog.pg_policy as p
                      where p.polrelid = c.oid and p.polname = 'rowflow_worker')
    order by c.relname
  loop
    execute pg_catalog.format('create policy rowflow_worker on %s for all to %I using (true) with check (true)',
                              v_table, v_worker);
  end loop;
end;
$$;
