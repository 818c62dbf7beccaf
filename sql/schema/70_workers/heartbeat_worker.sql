-- Returns false when the row is gone (another worker declared this one dead);
-- the caller then re-registers and logs a warning.
create or replace function rowflow.heartbeat_worker(id text, now timestamptz default null)
returns boolean
language plpgsql
set search_path to ''
as $$
begin
  update rowflow.workers as w
  set heartbeat_at = greatest(w.started_at, coalesce(heartbeat_worker.now, now()))
  where w.id = heartbeat_worker.id;
  return found;
end;
$$;
comment on function rowflow.heartbeat_worker(text, timestamptz) is
  'Records a heartbeat; false when the worker row no longer exists.';
