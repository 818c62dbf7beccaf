-- rowflow.heartbeat_worker(id, now) → whether the row still exists
--
-- Records a heartbeat. False when the row is gone (another worker declared
-- this one dead and released its work); the caller then re-registers and
-- logs a warning. A worker declared dead by mistake cannot commit twice:
-- its gate calls are fenced by the attempt number.
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
