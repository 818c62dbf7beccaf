-- graphile's task id of 'rowflow:step'.
create or replace function rowflow._step_task()
returns int
language plpgsql stable
set search_path to ''
as $$
declare
  v_id int;
begin
  select t.id into v_id from graphile_worker._private_tasks as t where t.identifier = 'rowflow:step';
  return coalesce(v_id, rowflow._step_task_id());
end;
$$;
