-- rowflow.unregister_worker(id)
--
-- Removes a worker's row at clean shutdown, after it released its jobs and
-- leases.
create or replace function rowflow.unregister_worker(id text)
returns void
language sql
set search_path to ''
as $$
  delete from rowflow.workers as w where w.id = unregister_worker.id;
$$;
comment on function rowflow.unregister_worker(text) is
  'Removes a worker row at clean shutdown (after its jobs were released).';
