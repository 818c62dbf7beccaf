-- Id of graphile-worker's task 'rowflow:step', created if missing (as
-- add_jobs does; a concurrent creator makes ours do nothing, then we read it).
create or replace function rowflow._step_task_id()
returns int
language plpgsql
set search_path to ''
as $$
declare
  v_id int;
begin
  select t.id into v_id from graphile_worker._private_tasks as t where t.identifier = 'rowflow:step';
  if v_id is null then
    insert into graphile_worker._private_tasks as t (identifier) values ('rowflow:step')
    on conflict do nothing
    returning t.id into v_id;
    if v_id is null then
      select t.id into v_id from graphile_worker._private_tasks as t where t.identifier = 'rowflow:step';
    end if;
  end if;
  return v_id;
end;
$$;

-- graphile's task row of rowflow's jobs exists from the start, so the hot
-- paths read its id with a subquery instead of calling the function above.
insert into graphile_worker._private_tasks (identifier) values ('rowflow:step') on conflict do nothing;
