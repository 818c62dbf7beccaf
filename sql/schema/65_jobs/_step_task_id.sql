-- rowflow._task_id(identifier) → graphile's task id of one of rowflow's tasks, created if missing
-- rowflow._step_task_id() → that of 'rowflow:step'
--
-- rowflow's jobs have two tasks: 'rowflow:step' (an attempt of a step's
-- handler) and 'rowflow:wait' (the job that arms a waiting step,
-- rowflow.arm_step). As add_jobs does: a concurrent creator makes our insert
-- do nothing, then we read its row.
create or replace function rowflow._task_id(identifier text)
returns int
language plpgsql
set search_path to ''
as $$
declare
  v_id int;
begin
  select t.id into v_id from graphile_worker._private_tasks as t where t.identifier = _task_id.identifier;
  if v_id is null then
    insert into graphile_worker._private_tasks as t (identifier) values (_task_id.identifier)
    on conflict do nothing
    returning t.id into v_id;
    if v_id is null then
      select t.id into v_id from graphile_worker._private_tasks as t where t.identifier = _task_id.identifier;
    end if;
  end if;
  return v_id;
end;
$$;
select rowflow._allow('function rowflow._task_id(text)', '{}');

create or replace function rowflow._step_task_id()
returns int
language sql
set search_path to ''
as $$
  select rowflow._task_id('rowflow:step');
$$;
select rowflow._allow('function rowflow._step_task_id()', '{}');

-- graphile's task rows of rowflow's jobs exist from the start, so the hot
-- paths read their ids with a subquery instead of calling the functions above.
insert into graphile_worker._private_tasks (identifier) values ('rowflow:step') on conflict do nothing;
insert into graphile_worker._private_tasks (identifier) values ('rowflow:wait') on conflict do nothing;
insert into graphile_worker._private_tasks (identifier) values ('rowflow:child') on conflict do nothing;
