-- rowflow._lock_task(task_id, what) → the task row, locked after its run
--
-- The human-task functions' GUARD: lock order as in every gate (the run's
-- row, then the task), RF063 for an unknown task.
create or replace function rowflow._lock_task(task_id bigint, what text)
returns rowflow.human_tasks
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_task rowflow.human_tasks;
begin
  perform 1 from rowflow.runs as r
  where r.id = (select t.run_id from rowflow.human_tasks as t where t.id = _lock_task.task_id)
  for no key update;
  select t.* into v_task from rowflow.human_tasks as t where t.id = _lock_task.task_id for update;
  if not found then
    raise exception '%: unknown task %', _lock_task.what, coalesce(_lock_task.task_id::text, 'null') using errcode = 'RF063';
  end if;
  return v_task;
end;
$$;
select rowflow._allow('function rowflow._lock_task(bigint, text)', '{}');

-- rowflow._task_refusal(task, by, groups, what) → void, or raises
--
-- Who may act on a task: its assignee, a member of the group it is assigned
-- to (`groups`: the person's groups, as the application knows them), and
-- once it is claimed, only who claimed it. RF064 a task that is not open
-- (done, expired, cancelled); RF065 someone else.
create or replace function rowflow._task_refusal(task rowflow.human_tasks, by text, groups text[], what text)
returns void
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
begin
  if (_task_refusal.task).status not in ('open', 'claimed') then
    raise exception '%: task % is %', _task_refusal.what, (_task_refusal.task).id, (_task_refusal.task).status
      using errcode = 'RF064',
      hint = case when (_task_refusal.task).status = 'done'
                  then pg_catalog.format('%s completed it at %s.', (_task_refusal.task).completed_by,
                                         (_task_refusal.task).completed_at)
                  else 'Its step has moved on (expired at its deadline, or the run ended); see rowflow.tasks.' end;
  end if;
  if (_task_refusal.task).status = 'claimed' and (_task_refusal.task).claimed_by is distinct from _task_refusal.by then
    raise exception '%: task % is claimed by %, not %', _task_refusal.what, (_task_refusal.task).id,
      (_task_refusal.task).claimed_by, coalesce(_task_refusal.by, 'null') using errcode = 'RF065',
      hint = 'An operator may act for them with override => true, or reassign the task.';
  end if;
  if (_task_refusal.task).status = 'open' and _task_refusal.by is distinct from (_task_refusal.task).assignee
     and not (_task_refusal.task).assignee = any (coalesce(_task_refusal.groups, '{}')) then
    raise exception '%: task % is assigned to %, not to % (nor to one of their groups %)', _task_refusal.what,
      (_task_refusal.task).id, (_task_refusal.task).assignee, coalesce(_task_refusal.by, 'null'),
      coalesce(_task_refusal.groups, '{}')::text using errcode = 'RF065',
      hint = 'An operator may act for them with override => true, or reassign the task.';
  end if;
end;
$$;
select rowflow._allow('function rowflow._task_refusal(rowflow.human_tasks, text, text[], text)', '{}');
