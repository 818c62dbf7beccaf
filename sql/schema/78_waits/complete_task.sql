-- rowflow.complete_task(task_id, by, answer, groups, override, now) → what it changed
-- rowflow.claim_task(task_id, by, groups, now) → the task
-- rowflow.reassign_task(task_id, to, by, reason, groups, now) → the task
--
-- A person's actions on a human task (rowflow.human_tasks), called by the
-- application on their behalf: `by` is who acts, `groups` the groups the
-- application knows them to be in. Each records who acted, as an event of
-- the run, in the same transaction as the change.
--
-- complete_task validates `answer` against the task's form
-- (rowflow._form_errors, docs/forms.md); a wrong answer raises RF066 with
-- every problem in DETAIL and changes nothing: the task stays open. The
-- answer becomes the step's output, its dependents are released, and the
-- run finishes when nothing is left (rowflow._settle_step). Only the
-- assignee, a member of its group, or — once claimed — the claimer may
-- complete it (RF065); an operator may complete it for them with
-- override => true (recorded, with the audit row). RF063 unknown task,
-- RF064 a task no longer open.
create or replace function rowflow.complete_task(task_id bigint, by text, answer jsonb, groups text[] default '{}',
  override boolean default false, now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(complete_task.now, pg_catalog.statement_timestamp());
  v_task rowflow.human_tasks;
  v_errors text[];
  v_answer jsonb;
begin
  -- GUARD: apps and operators; who acts is named; the task is theirs, open,
  -- and the answer fits its form.
  perform rowflow._require('{app,operator}');
  if coalesce(length(complete_task.by), 0) not between 1 and 200 then
    raise exception 'complete_task: "by" must name who completes the task (1-200 characters)' using errcode = '22023';
  end if;
  if coalesce(complete_task.override, false) then
    perform rowflow._require('{operator}');
  end if;
  v_task := rowflow._lock_task(complete_task.task_id, 'complete_task');
  if not coalesce(complete_task.override, false) or v_task.status not in ('open', 'claimed') then
    perform rowflow._task_refusal(v_task, complete_task.by, complete_task.groups, 'complete_task');
  end if;
  v_errors := rowflow._form_errors(v_task.form, complete_task.answer);
  if cardinality(v_errors) > 0 then
    raise exception 'complete_task: the answer does not match the form of task %: %', v_task.id, v_errors[1]
      using errcode = 'RF066', detail = array_to_string(v_errors, E'\n'),
      hint = 'The task stays open; send a corrected answer.';
  end if;

  -- PHASE 1: the task is done; the step succeeds with the answer.
  update rowflow.human_tasks as t
  set status = 'done', completed_by = complete_task.by, completed_at = v_now, answer = complete_task.answer
  where t.id = v_task.id;
  v_answer := rowflow._settle_step(v_task.run_id, v_task.step, 'succeeded', complete_task.answer, v_now,
    'task_completed', pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('task', v_task.id,
      'by', complete_task.by, 'override', case when complete_task.override then true end, 'session', session_user)));
  if coalesce(complete_task.override, false) then
    perform rowflow._audit('complete_task', v_task.workflow, v_task.run_id, v_task.step, null,
                           pg_catalog.jsonb_build_object('task', v_task.id, 'by', complete_task.by,
                                                         'assignee', v_task.assignee), v_now);
  end if;
  return pg_catalog.jsonb_build_object('ok', true, 'task', v_task.id, 'run', v_task.run_id, 'step', v_task.step,
                                       'by', complete_task.by) || v_answer;
end;
$$;
comment on function rowflow.complete_task(bigint, text, jsonb, text[], boolean, timestamptz) is
  'Completes a human task as `by` with an answer validated against its form: the step succeeds with the answer. RF063-RF066.';
select rowflow._allow('function rowflow.complete_task(bigint, text, jsonb, text[], boolean, timestamptz)', '{app,operator}');

create or replace function rowflow.claim_task(task_id bigint, by text, groups text[] default '{}',
  now timestamptz default null)
returns rowflow.human_tasks
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(claim_task.now, pg_catalog.statement_timestamp());
  v_task rowflow.human_tasks;
begin
  perform rowflow._require('{app,operator}');
  if coalesce(length(claim_task.by), 0) not between 1 and 200 then
    raise exception 'claim_task: "by" must name who claims the task (1-200 characters)' using errcode = '22023';
  end if;
  v_task := rowflow._lock_task(claim_task.task_id, 'claim_task');
  perform rowflow._task_refusal(v_task, claim_task.by, claim_task.groups, 'claim_task');
  if v_task.status = 'claimed' then
    return v_task; -- claimed by them already
  end if;
  update rowflow.human_tasks as t set status = 'claimed', claimed_by = claim_task.by, claimed_at = v_now
  where t.id = v_task.id returning t.* into v_task;
  insert into rowflow.events (run_id, step, type, data, at)
  values (v_task.run_id, v_task.step, 'task_claimed', pg_catalog.jsonb_build_object('task', v_task.id,
          'by', claim_task.by, 'session', session_user), v_now);
  perform rowflow._notify(pg_catalog.jsonb_build_object('run', v_task.run_id));
  return v_task;
end;
$$;
comment on function rowflow.claim_task(bigint, text, text[], timestamptz) is
  'Claims an open human task for `by` (its assignee or a member of its group): from then on only they complete it.';
select rowflow._allow('function rowflow.claim_task(bigint, text, text[], timestamptz)', '{app,operator}');

create or replace function rowflow.reassign_task(task_id bigint, "to" text, by text, reason text default null,
  groups text[] default '{}', now timestamptz default null)
returns rowflow.human_tasks
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(reassign_task.now, pg_catalog.statement_timestamp());
  v_task rowflow.human_tasks;
  v_operator boolean;
begin
  -- GUARD: the assignee (or claimer) hands it on; an operator reassigns any.
  perform rowflow._require('{app,operator}');
  if coalesce(length(reassign_task."to"), 0) not between 1 and 200 or coalesce(length(reassign_task.by), 0) not between 1 and 200 then
    raise exception 'reassign_task: "to" and "by" must name a person or group (1-200 characters)' using errcode = '22023';
  end if;
  v_task := rowflow._lock_task(reassign_task.task_id, 'reassign_task');
  v_operator := rowflow._trusted() or pg_catalog.pg_has_role(session_user, rowflow._role('operator'), 'MEMBER');
  if not v_operator or v_task.status not in ('open', 'claimed') then
    perform rowflow._task_refusal(v_task, reassign_task.by, reassign_task.groups, 'reassign_task');
  end if;
  update rowflow.human_tasks as t
  set assignee = reassign_task."to", status = 'open', claimed_by = null, claimed_at = null
  where t.id = v_task.id returning t.* into v_task;
  insert into rowflow.events (run_id, step, type, data, at)
  values (v_task.run_id, v_task.step, 'task_reassigned', pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
          'task', v_task.id, 'to', reassign_task."to", 'by', reassign_task.by, 'reason', reassign_task.reason,
          'session', session_user)), v_now);
  perform rowflow._audit('reassign_task', v_task.workflow, v_task.run_id, v_task.step, reassign_task.reason,
                         pg_catalog.jsonb_build_object('task', v_task.id, 'to', reassign_task."to", 'by', reassign_task.by),
                         v_now);
  perform rowflow._notify(pg_catalog.jsonb_build_object('run', v_task.run_id));
  return v_task;
end;
$$;
comment on function rowflow.reassign_task(bigint, text, text, text, text[], timestamptz) is
  'Reassigns an open human task to another person or group (by its assignee or claimer, or an operator); it is open again.';
select rowflow._allow('function rowflow.reassign_task(bigint, text, text, text, text[], timestamptz)', '{app,operator}');
