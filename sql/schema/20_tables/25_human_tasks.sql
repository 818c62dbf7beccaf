-- rowflow.human_tasks: tasks assigned to people (a step with "human": …).
-- rowflow.arm_step creates the task when its step is reached; the person
-- (through the application, which authenticates them) claims and completes
-- it (rowflow.claim_task, rowflow.complete_task), and the answer, validated
-- against the form (JSON Schema, docs/forms.md), becomes the step's output.
-- Assignee and actors are the application's identities (an email, a group
-- name): rowflow records them, the app vouches for them. Every action is an
-- event of the run (task_created, task_claimed, task_reassigned,
-- task_escalated, task_completed) naming who did it. The view rowflow.tasks
-- adds 'overdue'; rowflow.inbox(assignee, groups) is one person's list.
create table rowflow.human_tasks (
  id           bigint generated always as identity primary key,
  run_id       bigint not null,
  step         text not null,
  workflow     text not null,
  title        text not null,
  description  text,
  assignee     text not null,
  form         jsonb not null default '{}',
  status       text not null default 'open',
  due_at       timestamptz,
  escalate_to  text,
  escalated_at timestamptz,
  created_at   timestamptz not null,
  claimed_by   text,
  claimed_at   timestamptz,
  completed_by text,
  completed_at timestamptz,
  answer       jsonb,
  constraint status_is_valid check (status in ('open', 'claimed', 'done', 'expired', 'cancelled')),
  constraint claimed_matches_status check ((status = 'claimed') <= (claimed_by is not null)),
  constraint completed_matches_status check ((status = 'done') = (completed_at is not null))
);
-- One open task per step run; a rerun of the step makes a new one.
create unique index human_tasks_open_idx on rowflow.human_tasks (run_id, step) where status in ('open', 'claimed');
create index human_tasks_assignee_idx on rowflow.human_tasks (assignee) where status in ('open', 'claimed');
create index human_tasks_run_idx on rowflow.human_tasks (run_id);
comment on table rowflow.human_tasks is
  'Tasks assigned to people by "human" steps: open → claimed → done (or expired, cancelled); see rowflow.tasks and rowflow.inbox.';
select rowflow._allow('table rowflow.human_tasks', '{viewer}');
