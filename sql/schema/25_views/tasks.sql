-- rowflow.tasks: the human tasks with what a list or an inbox shows —
-- overdue (open or claimed past its due time), the run's status and the
-- time it has been waiting. rowflow.inbox(assignee, groups) is one
-- person's open tasks. Apps see every task (their inbox page lists other
-- sessions' runs' tasks); a task holds its title and form, not the run input.
create or replace view rowflow.tasks as
select t.id, t.run_id, t.workflow, t.step, t.title, t.description, t.assignee, t.status,
  t.status in ('open', 'claimed') and t.due_at < pg_catalog.now() as overdue,
  t.due_at, t.escalate_to, t.escalated_at, t.form, t.created_at, t.claimed_by, t.claimed_at,
  t.completed_by, t.completed_at, t.answer, r.status as run_status
from rowflow.human_tasks as t
join rowflow.runs as r on r.id = t.run_id;
comment on view rowflow.tasks is
  'Human tasks (open, claimed, done, expired, cancelled) with overdue, assignee, due time, run and workflow.';
select rowflow._allow('view rowflow.tasks', '{app,operator,viewer}');

-- rowflow.inbox(assignee, groups) → the open and claimed tasks of one
-- person: assigned to them or to one of their groups, or claimed by them;
-- the most urgent first (due time, then age).
create or replace function rowflow.inbox(assignee text, groups text[] default '{}')
returns setof rowflow.tasks
language sql stable
set search_path to ''
as $$
  select t.* from rowflow.tasks as t
  where t.status in ('open', 'claimed')
    and (t.assignee = inbox.assignee or t.assignee = any (coalesce(inbox.groups, '{}')) or t.claimed_by = inbox.assignee)
  order by t.due_at nulls last, t.id;
$$;
comment on function rowflow.inbox(text, text[]) is
  'The open and claimed human tasks of one person: theirs, their groups'', or claimed by them; due first.';
select rowflow._allow('function rowflow.inbox(text, text[])', '{app,operator,viewer}');
