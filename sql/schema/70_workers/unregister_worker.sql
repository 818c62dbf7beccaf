-- rowflow.unregister_worker(id)
--
-- Removes a worker's row at clean shutdown, after it released its jobs and
-- leases.
create or replace function rowflow.unregister_worker(id text, token text default null)
returns void
language plpgsql
security definer
set search_path to ''
as $$
begin
  perform rowflow._require('{worker}');
  perform rowflow._check_worker(unregister_worker.id, unregister_worker.token);
  delete from rowflow.workers as w where w.id = unregister_worker.id;
end;
$$;
comment on function rowflow.unregister_worker(text, text) is
  'Removes a worker row at clean shutdown (after its jobs were released); needs the worker''s token.';
select rowflow._allow('function rowflow.unregister_worker(text, text)', '{worker}');
