-- rowflow._step_task_id() → graphile's task id of 'rowflow:step', created if missing
--
-- As add_jobs does: a concurrent creator makes our insert do nothing, then
-- we read its row.
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
select rowflow._allow('function rowflow._step_task_id()', '{}');

-- graphile's task row of rowflow's jobs exists from the start, so the hot
-- paths read its id with a subquery instead of calling the function above.
insert into graphile_worker._private_tasks (identifier) values ('rowflow:step') on conflict do nothing;

-- rowflow._wait_task_id() → graphile's task id of 'rowflow:wait', the job
-- that arms a waiting step (rowflow.arm_step); created if missing.
create or replace function rowflow._wait_task_id()
returns int
language plpgsql
set search_path to ''
as $$
declare
  v_id int;
begin
  select t.id into v_id from graphile_worker._private_tasks as t where t.identifier = 'rowflow:wait';
  if v_id is null then
    insert into graphile_worker._private_tasks as t (identifier) values ('rowflow:wait')
    on conflict do nothing
    returning t.id into v_id;
    if v_id is null then
      select t.id into v_id from graphile_worker._private_tasks as t where t.identifier = 'rowflow:wait';
    end if;
  end if;
  return v_id;
end;
$$;
select rowflow._allow('function rowflow._wait_task_id()', '{}');
insert into graphile_worker._private_tasks (identifier) values ('rowflow:wait') on conflict do nothing;
