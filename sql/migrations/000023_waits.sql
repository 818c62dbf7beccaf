-- Waits (issue #17 items 2-4): steps that sleep until a time computed from
-- their input (startAt), wait for a named signal (rowflow.signal), or for a
-- person (human tasks: rowflow.human_tasks, the rowflow.tasks view,
-- inbox/claim/complete/reassign). A waiting step is queued as a
-- 'rowflow:wait' job that arms it (rowflow.arm_step) and then holds no
-- worker: its wait is a rowflow.step_waits row and a deadline job. Handler
-- answers are validated against a JSON Schema subset (_form_problem,
-- _form_errors; docs/forms.md). skip_step now settles through the shared
-- rowflow._settle_step.
--
-- Crash recovery in seconds, and faults that do not burn attempts (issue
-- #18). A killed worker's leases used to wait for the heartbeat timeout
-- (30 s by default; 32-36 s from the last SIGKILL to done in the kill
-- trials), though Postgres knows within milliseconds that its connection
-- closed. A worker now holds a session advisory lock on a connection of its
-- own (rowflow.hold_worker_lock, workers.lock_key); release_dead_workers
-- treats a worker whose lock is free as dead at once, and
-- rowflow.disconnected_workers is the cheap probe live workers run every
-- second. A Postgres restart used to record every running step as
-- worker_lost and use up one of its attempts: with the default 3, a few
-- restarts failed healthy runs. A lost attempt now raises max_attempts by
-- one and is counted in step_runs.lost_attempts; the third lost attempt
-- fails the step as poison (RF_POISON). The attempt number still counts up:
-- it is the lease's fence. And claim_runs (and the take of released
-- dependents, _release) yielded to "available" jobs nobody could fetch,
-- waiting in a named queue whose lock was held: a killed worker holding a
-- serial queue's lock stopped every claim of runs with a higher priority
-- value until it was released.
--
-- Batch visibility (issue #18, item 4): rowflow.run_counts(workflow, since)
-- answers how many runs there are by status, in one row, so a script, the
-- CLI (`rowflow wait`) and client.waitForRuns can tell when a batch is done
-- (active = 0) without listing its runs.

-- New event types. NOT VALID, then VALIDATE: the scan of a large events
-- table does not block the writes of running workflows meanwhile.
alter table rowflow.events drop constraint type_is_valid;
alter table rowflow.events add constraint type_is_valid CHECK ((type = ANY (ARRAY['run_started'::text, 'run_succeeded'::text, 'run_failed'::text, 'run_compensating'::text, 'run_cancelled'::text, 'step_queued'::text, 'step_started'::text, 'step_succeeded'::text, 'step_failed'::text, 'step_retrying'::text, 'step_skipped'::text, 'step_cancelled'::text, 'run_retried'::text, 'run_rerun'::text, 'step_sleeping'::text, 'step_waiting'::text, 'step_timed_out'::text, 'signal_received'::text, 'task_created'::text, 'task_claimed'::text, 'task_reassigned'::text, 'task_escalated'::text, 'task_completed'::text, 'row_matched'::text]))) not valid;
alter table rowflow.events validate constraint type_is_valid;

alter table rowflow.workflow_steps add column wait jsonb;
comment on column rowflow.workflow_steps.wait is
  'How the step waits (sql/schema/30_define/_compile_wait.sql): {"kind": "time" | "signal" | "human" | "row", …}; null for a plain step. A step with a wait is queued as a rowflow:wait job, which arms it (rowflow.arm_step).';

-- Operators' task actions are audited.
alter table rowflow.audit drop constraint action_is_valid;
alter table rowflow.audit add constraint action_is_valid check (action in (
    'pause_workflow', 'resume_workflow', 'retry_run', 'rerun_from', 'skip_step', 'purge_runs', 'cancel_run',
    'set_retention', 'apply_retention', 'define_workflow', 'attach', 'detach', 'define_schedule',
    'drop_schedule', 'pause_schedule', 'resume_schedule', 'complete_task', 'reassign_task'));

alter table rowflow.step_runs add column lost_attempts smallint not null default 0;
comment on column rowflow.step_runs.lost_attempts is
  'Attempts of this step lost with their worker or its connection (error kind worker_lost). Each one also raised max_attempts by one, so lost attempts do not use up the step''s attempts; the third one fails the step as poison (RF_POISON).';

alter table rowflow.workers add column lock_key int;
comment on column rowflow.workers.lock_key is
  'The key (class 1380349803, this value) of the session advisory lock the worker holds on a connection of its own; free lock = the worker''s connection closed = dead. Null: liveness by heartbeat only.';


drop function rowflow._add_step_jobs(jobs rowflow.step_job[]);
drop function rowflow._end_leases(worker_ids text[], keep text[], before timestamp with time zone, now timestamp with time zone);

-- from sql/schema/20_tables/23_step_waits.sql
-- rowflow.step_waits: one row per step that is waiting now — for a signal,
-- a person (a human task) or a business row — written by rowflow.arm_step
-- when the step's rowflow:wait job runs, deleted when the wait ends
-- (rowflow._settle_step, rowflow._end_waits). The step run itself stays
-- 'queued' meanwhile, its job_id the deadline job (a rowflow:wait job at
-- `until`), or null when the wait has no deadline: a waiting step holds no
-- worker slot, no transaction and no lock. Who ends it finds it here:
-- rowflow.signal by (run_id, signal), the row-change trigger of a waitFor
-- table by relid, complete_task by task_id.
--
-- A row wait is `confirmed` once no transaction that could have written a
-- matching row unseen is still running: a writer whose trigger ran before
-- this row committed did not see it, and its row may commit after the
-- step's own check looked. arm_step records the transactions writing the
-- table just after the wait committed (`xids`, from pg_locks) and checks
-- again once they have all ended; from then on the table's trigger sees
-- every writer.
create table rowflow.step_waits (
  run_id    bigint not null,
  step      text not null,
  kind      text not null,
  signal    text,                  -- kind 'signal': the name it waits for
  relid     oid,                   -- kind 'row': the table whose rows it waits for
  task_id   bigint,                -- kind 'human': its rowflow.human_tasks row
  since     timestamptz not null,
  until     timestamptz,           -- the deadline (timeout or due); null: none
  confirmed boolean not null default true,
  xids      xid[],                 -- kind 'row' before it is confirmed: the writers to wait for
  primary key (run_id, step),
  constraint kind_is_valid check (kind in ('signal', 'human', 'row')),
  constraint detail_matches_kind
    check ((kind = 'signal') = (signal is not null) and (kind = 'row') = (relid is not null)
           and (kind = 'human') = (task_id is not null))
);
create index step_waits_relid_idx on rowflow.step_waits (relid) where relid is not null;
comment on table rowflow.step_waits is
  'Steps waiting now for a signal, a person or a business row (their step run stays queued, holding no worker); see rowflow.arm_step.';
select rowflow._allow('table rowflow.step_waits', '{viewer}');

-- from sql/schema/20_tables/24_signals.sql
-- rowflow.signals: every signal sent to a run (rowflow.signal), kept with
-- the run. A signal whose step waits already is consumed at once; one sent
-- before its step waits is kept (consumed_at null) and consumed, oldest
-- first, when the step arms. A signal that no step consumes stays here,
-- unconsumed, until the run is purged: rowflow.signal answers that nothing
-- waits for it, and the run's timeline shows it. No foreign key to runs
-- (like step_runs: rows are written under the run lock, purge deletes them).
create table rowflow.signals (
  id          bigint generated always as identity primary key,
  run_id      bigint not null,
  name        text not null,
  payload     jsonb,
  sent_at     timestamptz not null,
  sent_by     text not null default session_user,
  consumed_at timestamptz,
  step        text,                -- the step that consumed it
  constraint name_is_valid check (name ~ '^[A-Za-z0-9_.:-]{1,128}$'),
  constraint consumed_by_a_step check ((consumed_at is null) = (step is null))
);
create index signals_run_idx on rowflow.signals (run_id, name, id);
comment on table rowflow.signals is
  'Signals sent to runs (rowflow.signal): consumed by the step waiting for the name (consumed_at, step), or kept until one waits.';
select rowflow._allow('table rowflow.signals', '{viewer}');

-- from sql/schema/20_tables/25_human_tasks.sql
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

-- from sql/schema/25_views/tasks.sql
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

-- from sql/schema/30_define/_compile_row_wait.sql
create or replace function rowflow._compile_row_wait(table_name jsonb, "where" jsonb, what text, owner name)
returns jsonb
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_relid oid;
  v_rel pg_catalog.pg_class;
  v_cond text := _compile_row_wait."where" #>> '{}';
  v_out text := '';
  v_i int := 1;
  v_n int;
  v_c text;
  v_j int;
  v_m text[];
  v_fn text;
  v_proc regprocedure;
begin
  -- GUARD: a table the owner may read.
  if jsonb_typeof(_compile_row_wait.table_name) is distinct from 'string' then
    raise exception '%: waitFor.table must be a table name like "shop.payments"', _compile_row_wait.what
      using errcode = 'RF011';
  end if;
  -- A spec is data, resolved the same way wherever it is defined from:
  -- the name must be schema-qualified (pg_catalog aside, nothing is on the path).
  v_relid := rowflow._resolve_table(_compile_row_wait.table_name #>> '{}', '');
  select c.* into v_rel from pg_catalog.pg_class as c where c.oid = v_relid;
  if v_relid is null or v_rel.relkind not in ('r', 'p') then
    raise exception '%: waitFor.table % is not a table', _compile_row_wait.what, _compile_row_wait.table_name::text
      using errcode = 'RF011', hint = 'Schema-qualify it (e.g. "public.payments"): an ordinary or partitioned table.';
  end if;
  if not pg_catalog.has_table_privilege(_compile_row_wait.owner, v_relid, 'SELECT') then
    raise exception '%: the workflow''s owner % may not read %', _compile_row_wait.what, _compile_row_wait.owner,
      v_relid::regclass using errcode = 'RF011',
      hint = 'The condition runs with the owner''s rights: grant it SELECT on the table.';
  end if;
  if jsonb_typeof(_compile_row_wait."where") is distinct from 'string' or length(v_cond) not between 1 and 4000 then
    raise exception '%: waitFor.where must be a SQL condition of 1-4000 characters', _compile_row_wait.what
      using errcode = 'RF012';
  end if;

  -- PHASE 1: the condition, token by token: quoted text is copied, paths
  -- become parameters of the check, anything that could end the expression
  -- is refused.
  v_n := length(v_cond);
  while v_i <= v_n loop
    v_c := substr(v_cond, v_i, 1);
    if v_c in ('''', '"') then
      v_j := v_i + 1;
      loop
        exit when v_j > v_n;
        if substr(v_cond, v_j, 1) = v_c then
          exit when substr(v_cond, v_j + 1, 1) is distinct from v_c;
          v_j := v_j + 1; -- a doubled quote
        end if;
        v_j := v_j + 1;
      end loop;
      if v_j > v_n then
        raise exception '%: waitFor.where has an unterminated % quote', _compile_row_wait.what, v_c using errcode = 'RF012';
      end if;
      if v_c = '''' and v_i > 1 and substr(v_cond, v_i - 1, 1) ~ '[A-Za-z0-9_&]' then
        raise exception '%: waitFor.where may not use E'''', U&'''' or B'''' strings', _compile_row_wait.what
          using errcode = 'RF012';
      end if;
      v_out := v_out || substr(v_cond, v_i, v_j - v_i + 1);
      v_i := v_j + 1;
      continue;
    end if;
    if v_c = ';' or substr(v_cond, v_i, 2) in ('--', '/*') or v_c = '\' then
      raise exception '%: waitFor.where must be one SQL expression: %, outside quotes, is not allowed',
        _compile_row_wait.what, pg_catalog.quote_literal(case when v_c = ';' or v_c = '\' then v_c else substr(v_cond, v_i, 2) end)
        using errcode = 'RF012';
    end if;
    if v_c = '$' then
      v_m := regexp_match(substr(v_cond, v_i), '^\$(\.[A-Za-z_][A-Za-z0-9_]*|\.\"[^"]+\"|\[[0-9]+\])+');
      if v_m is null then
        raise exception '%: waitFor.where: "$" must start a path like $.input.orderId (dollar quotes and $n parameters are not allowed)',
          _compile_row_wait.what using errcode = 'RF012';
      end if;
      v_m := regexp_match(substr(v_cond, v_i), '^(\$(?:\.[A-Za-z_][A-Za-z0-9_]*|\.\"[^"]+\"|\[[0-9]+\])+)');
      perform rowflow._compile_path(to_jsonb(v_m[1]), _compile_row_wait.what || ': waitFor.where path');
      v_out := v_out || pg_catalog.format('(pg_catalog.jsonb_path_query_first(rowflow_ctx.ctx, %L::jsonpath) #>> ''{}'')',
                                          v_m[1]);
      v_i := v_i + length(v_m[1]);
      continue;
    end if;
    v_out := v_out || v_c;
    v_i := v_i + 1;
  end loop;

  -- PHASE 2: the check function; Postgres parses and type-checks it now.
  v_fn := 'rw_' || left(md5(v_relid::text || ':' || _compile_row_wait.owner || ':' || v_out), 20);
  begin
    execute pg_catalog.format(
      'create or replace function rowflow.%I(ctxs jsonb[]) returns table (o int, "row" jsonb) language sql stable '
      'security definer set search_path to '''' as %L', v_fn,
      pg_catalog.format('select rowflow_ctx.o::int, rowflow_match.r from unnest(ctxs) with ordinality as rowflow_ctx(ctx, o) '
                        'cross join lateral (select pg_catalog.to_jsonb(t) as r from only %s as t where (%s) limit 1) '
                        'as rowflow_match', v_relid::regclass, v_out));
  exception when others then
    raise exception '%: waitFor.where is not a valid condition on %: %', _compile_row_wait.what, v_relid::regclass, sqlerrm
      using errcode = 'RF012', hint = 'Qualify functions by schema (the check runs with an empty search_path); cast paths, e.g. ($.input.id)::bigint.';
  end;
  v_proc := pg_catalog.format('rowflow.%I(jsonb[])', v_fn)::regprocedure;
  execute pg_catalog.format('revoke all on function %s from public', v_proc);
  perform rowflow._give_function(v_proc, (select r.oid from pg_catalog.pg_roles as r where r.rolname = _compile_row_wait.owner));

  -- PHASE 3: the table's trigger (once per table).
  if not exists (select 1 from pg_catalog.pg_trigger as t where t.tgrelid = v_relid and t.tgname = 'rowflow_wait_for') then
    execute pg_catalog.format('create trigger rowflow_wait_for after insert or update on %s '
                              'for each statement execute function rowflow._row_wait_fired()', v_relid::regclass);
  end if;
  return pg_catalog.jsonb_build_object('relid', v_relid, 'table', v_relid::regclass::text, 'check', v_proc::text);
end;
$$;
comment on function rowflow._compile_row_wait(jsonb, jsonb, text, name) is
  'Internal: compiles a waitFor (table, condition with $.paths) into a check function owned by the workflow''s owner, and gives the table its rowflow_wait_for trigger.';
select rowflow._allow('function rowflow._compile_row_wait(jsonb, jsonb, text, name)', '{}');

-- from sql/schema/30_define/_compile_wait.sql
create or replace function rowflow._compile_wait(step jsonb, what text, owner name)
returns jsonb
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_kinds text[] := array(select k from unnest(array['wait', 'human', 'waitFor']) as k where _compile_wait.step ? k);
  v_kind text;
  v_spec jsonb;
  v_key text;
  v_allowed text[];
  v_out jsonb := '{}';
  v_start jsonb := _compile_wait.step -> 'startAt';
  v_on jsonb;
begin
  -- GUARD: at most one wait kind; a wait step has no handler options.
  if cardinality(v_kinds) > 1 then
    raise exception '%: a step waits in one way only; it has %', _compile_wait.what, array_to_string(v_kinds, ' and ')
      using errcode = 'RF001';
  end if;
  if cardinality(v_kinds) = 0 and v_start is null then
    return null;
  end if;
  v_kind := v_kinds[1];
  if v_kind is not null then
    select k into v_key from jsonb_object_keys(_compile_wait.step) as k
    where k in ('task', 'attempts', 'backoff', 'timeout', 'compensate', 'queue') order by k limit 1;
    if found then
      raise exception '%: a "%" step has no task; "%" does not apply to it', _compile_wait.what, v_kind, v_key
        using errcode = 'RF002', hint = 'A wait step may have name, dependsOn, priority, delay, if and startAt.';
    end if;
  end if;

  -- PHASE 1: startAt: "<path>" or {"at": "<path>", "before" | "after": "<interval>"}.
  if v_start is not null then
    if jsonb_typeof(v_start) = 'object' then
      for v_key in select k from jsonb_object_keys(v_start) as k order by k loop
        if v_key not in ('at', 'before', 'after') then
          raise exception '%: unknown startAt option %; allowed: at, before, after', _compile_wait.what,
            to_jsonb(left(v_key, 100))::text using errcode = 'RF002';
        end if;
      end loop;
      if v_start ? 'before' and v_start ? 'after' then
        raise exception '%: startAt has both "before" and "after"; give one', _compile_wait.what using errcode = 'RF001';
      end if;
      if not v_start ? 'at' then
        raise exception '%: startAt.at is required: a path to a time, like "$.input.shipBy"', _compile_wait.what
          using errcode = 'RF001';
      end if;
      v_out := v_out || jsonb_build_object(
        'startAt', rowflow._compile_path(v_start -> 'at', _compile_wait.what || ': startAt.at')::text,
        'offset', case when v_start ? 'before'
                       then (-rowflow._parse_interval(v_start -> 'before', _compile_wait.what || ': startAt.before'))::text
                       when v_start ? 'after'
                       then rowflow._parse_interval(v_start -> 'after', _compile_wait.what || ': startAt.after')::text end);
    else
      v_out := v_out || jsonb_build_object(
        'startAt', rowflow._compile_path(v_start, _compile_wait.what || ': startAt')::text);
    end if;
  end if;
  if v_kind is null then
    return v_out || '{"kind": "time"}';
  end if;

  -- PHASE 2: the kind's own options.
  v_spec := _compile_wait.step -> v_kind;
  if jsonb_typeof(v_spec) is distinct from 'object' then
    raise exception '%: "%" must be an object', _compile_wait.what, v_kind using errcode = 'RF001';
  end if;
  v_allowed := case v_kind
    when 'wait' then array['signal', 'timeout', 'onTimeout']
    when 'human' then array['assignee', 'title', 'description', 'form', 'due', 'escalateTo', 'onTimeout']
    else array['table', 'where', 'timeout', 'onTimeout'] end;
  for v_key in select k from jsonb_object_keys(v_spec) as k order by k loop
    if not v_key = any (v_allowed) then
      raise exception '%: unknown % option %; allowed: %', _compile_wait.what, v_kind, to_jsonb(left(v_key, 100))::text,
        array_to_string(v_allowed, ', ') using errcode = 'RF002';
    end if;
  end loop;
  if v_kind = 'wait' then
    if jsonb_typeof(v_spec -> 'signal') is distinct from 'string' then
      raise exception '%: wait.signal is required: the name of the signal to wait for', _compile_wait.what
        using errcode = 'RF001';
    end if;
    if (v_spec ->> 'signal') !~ '^[A-Za-z0-9_.:-]{1,128}$' then
      raise exception '%: invalid signal name %: use 1-128 characters A-Z, a-z, 0-9, "_", ".", ":" or "-"',
        _compile_wait.what, left((v_spec -> 'signal')::text, 140) using errcode = 'RF004';
    end if;
    v_out := v_out || jsonb_build_object('kind', 'signal', 'signal', v_spec ->> 'signal');
  elsif v_kind = 'human' then
    if jsonb_typeof(v_spec -> 'assignee') is distinct from 'string' or length(v_spec ->> 'assignee') not between 1 and 200 then
      raise exception '%: human.assignee is required: a person or group (1-200 characters), or a path to one like "$.input.ownerEmail"',
        _compile_wait.what using errcode = 'RF001';
    end if;
    if jsonb_typeof(v_spec -> 'title') is distinct from 'string' or length(v_spec ->> 'title') not between 1 and 500 then
      raise exception '%: human.title is required: a string of 1-500 characters', _compile_wait.what using errcode = 'RF001';
    end if;
    if v_spec ? 'description' and jsonb_typeof(v_spec -> 'description') <> 'string' then
      raise exception '%: human.description must be a string', _compile_wait.what using errcode = 'RF001';
    end if;
    if v_spec ? 'escalateTo' and (jsonb_typeof(v_spec -> 'escalateTo') <> 'string'
                                  or length(v_spec ->> 'escalateTo') not between 1 and 200) then
      raise exception '%: human.escalateTo must be a person or group (1-200 characters)', _compile_wait.what
        using errcode = 'RF001';
    end if;
    if v_spec ? 'escalateTo' and not v_spec ? 'due' then
      raise exception '%: human.escalateTo needs "due": the task escalates when it is due', _compile_wait.what
        using errcode = 'RF001';
    end if;
    if v_spec ? 'form' and rowflow._form_problem(v_spec -> 'form') is not null then
      raise exception '%: human.form is not a supported JSON Schema: %', _compile_wait.what,
        rowflow._form_problem(v_spec -> 'form') using errcode = 'RF001', hint = 'The supported subset: docs/forms.md.';
    end if;
    v_out := v_out || jsonb_build_object('kind', 'human', 'title', v_spec ->> 'title',
      'description', v_spec ->> 'description', 'form', coalesce(v_spec -> 'form', '{}'),
      'escalateTo', v_spec ->> 'escalateTo')
      || case when left(v_spec ->> 'assignee', 1) = '$'
           then jsonb_build_object('assigneePath',
                  rowflow._compile_path(v_spec -> 'assignee', _compile_wait.what || ': human.assignee')::text)
           else jsonb_build_object('assignee', v_spec ->> 'assignee') end;
  else
    v_out := v_out || jsonb_build_object('kind', 'row')
      || rowflow._compile_row_wait(v_spec -> 'table', v_spec -> 'where', _compile_wait.what, _compile_wait.owner);
  end if;

  -- PHASE 3: the deadline and what happens at it.
  v_key := case v_kind when 'human' then 'due' else 'timeout' end;
  if v_spec ? v_key then
    if rowflow._parse_interval(v_spec -> v_key, _compile_wait.what || ': ' || v_kind || '.' || v_key) <= interval '0' then
      raise exception '%: %.% must be greater than zero', _compile_wait.what, v_kind, v_key using errcode = 'RF010';
    end if;
    v_out := v_out || jsonb_build_object('timeout',
      rowflow._parse_interval(v_spec -> v_key, _compile_wait.what || ': ' || v_kind || '.' || v_key)::text);
  end if;
  v_on := coalesce(v_spec -> 'onTimeout', '"fail"');
  if not (v_on in ('"fail"', '"skip"')
          or (jsonb_typeof(v_on) = 'object' and v_on ? 'output'
              and (select count(*) from jsonb_object_keys(v_on)) = 1)) then
    raise exception '%: %.onTimeout must be "fail", "skip" or {"output": <the step''s output>}, got %', _compile_wait.what,
      v_kind, left(v_on::text, 100) using errcode = 'RF001';
  end if;
  if v_spec ? 'onTimeout' and not v_spec ? v_key then
    raise exception '%: %.onTimeout needs "%"', _compile_wait.what, v_kind, v_key using errcode = 'RF001';
  end if;
  return v_out || jsonb_build_object('onTimeout', v_on);
end;
$$;
comment on function rowflow._compile_wait(jsonb, text, name) is
  'Internal: validates a step''s startAt / wait / human / waitFor and answers its compiled wait (workflow_steps.wait), or null.';
select rowflow._allow('function rowflow._compile_wait(jsonb, text, name)', '{}');

-- from sql/schema/30_define/_form_errors.sql
create or replace function rowflow._form_errors(form jsonb, value jsonb, path text default 'answer', depth int default 0)
returns text[]
language plpgsql immutable
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_s jsonb := _form_errors.form;
  v_v jsonb := coalesce(_form_errors.value, 'null'::jsonb);
  v_p text := _form_errors.path;
  v_t text := pg_catalog.jsonb_typeof(coalesce(_form_errors.value, 'null'::jsonb));
  v_errors text[] := '{}';
  v_types text[];
  v_num numeric;
  v_str text;
  v_len int;
  v_key text;
  v_elem jsonb;
  v_i int;
  v_m text[];
  v_ok boolean;
  v_ap jsonb;
begin
  -- GUARD: boolean schemas, depth.
  if _form_errors.depth > 32 then
    raise exception '%: the form nests deeper than 32 levels', v_p using errcode = 'RF001';
  end if;
  if pg_catalog.jsonb_typeof(v_s) = 'boolean' then
    return case when v_s = 'false'::jsonb then array[v_p || ': no value is allowed here'] else '{}'::text[] end;
  end if;
  if pg_catalog.jsonb_typeof(v_s) is distinct from 'object' then
    return '{}'; -- not a schema: _form_problem refuses it at definition
  end if;

  -- PHASE 1: type, alone when wrong.
  if v_s ? 'type' then
    v_types := case when pg_catalog.jsonb_typeof(v_s -> 'type') = 'string' then array[v_s ->> 'type']
                    else array(select pg_catalog.jsonb_array_elements_text(v_s -> 'type')) end;
    if not (v_t = any (v_types)
            or ('integer' = any (v_types) and case when v_t = 'number' then (v_v #>> '{}')::numeric % 1 = 0 else false end)) then
      return array[v_p || ': must be of type ' || pg_catalog.array_to_string(v_types, ' or ') || ', got ' || v_t];
    end if;
  end if;

  -- PHASE 2: enum and const (jsonb equality: 1 = 1.0, keys in any order).
  if v_s ? 'enum' and not exists (select from pg_catalog.jsonb_array_elements(v_s -> 'enum') as e(value) where e.value = v_v) then
    v_errors := v_errors || (v_p || ': must be one of ' || rowflow._form_json(v_s -> 'enum'));
  end if;
  if v_s ? 'const' and v_s -> 'const' <> v_v then
    v_errors := v_errors || (v_p || ': must be equal to ' || rowflow._form_json(v_s -> 'const'));
  end if;

  -- PHASE 3: the keywords of the value's type.
  if v_t = 'number' then
    v_num := (v_v #>> '{}')::numeric;
    if v_num < (v_s ->> 'minimum')::numeric then
      v_errors := v_errors || (v_p || ': must be >= ' || rowflow._form_json(v_s -> 'minimum'));
    end if;
    if v_num > (v_s ->> 'maximum')::numeric then
      v_errors := v_errors || (v_p || ': must be <= ' || rowflow._form_json(v_s -> 'maximum'));
    end if;
    if v_num <= (v_s ->> 'exclusiveMinimum')::numeric then
      v_errors := v_errors || (v_p || ': must be > ' || rowflow._form_json(v_s -> 'exclusiveMinimum'));
    end if;
    if v_num >= (v_s ->> 'exclusiveMaximum')::numeric then
      v_errors := v_errors || (v_p || ': must be < ' || rowflow._form_json(v_s -> 'exclusiveMaximum'));
    end if;

  elsif v_t = 'string' then
    v_str := v_v #>> '{}';
    v_len := pg_catalog.length(v_str);
    if v_len < (v_s ->> 'minLength')::numeric then
      v_errors := v_errors || (v_p || ': must have at least ' || rowflow._form_json(v_s -> 'minLength') || ' characters');
    end if;
    if v_len > (v_s ->> 'maxLength')::numeric then
      v_errors := v_errors || (v_p || ': must have at most ' || rowflow._form_json(v_s -> 'maxLength') || ' characters');
    end if;
    if v_s ? 'pattern' and not v_str ~ (v_s ->> 'pattern') then
      v_errors := v_errors || (v_p || ': must match the pattern ' || (v_s -> 'pattern')::text);
    end if;
    if v_s ->> 'format' in ('date', 'date-time') then
      v_m := pg_catalog.regexp_match(v_str, case v_s ->> 'format'
        when 'date' then '^([0-9]{4})-([0-9]{2})-([0-9]{2})$'
        else '^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?([Zz]|[+-]([0-9]{2}):([0-9]{2}))$' end);
      v_ok := v_m is not null and v_m[2]::int between 1 and 12 and v_m[3]::int between 1 and
        case when v_m[2]::int = 2 then
               case when (v_m[1]::int % 4 = 0 and v_m[1]::int % 100 <> 0) or v_m[1]::int % 400 = 0 then 29 else 28 end
             when v_m[2]::int in (4, 6, 9, 11) then 30 else 31 end;
      if v_ok and v_s ->> 'format' = 'date-time' then
        v_ok := v_m[4]::int <= 23 and v_m[5]::int <= 59 and v_m[6]::int <= 60
          and coalesce(v_m[9]::int <= 23 and v_m[10]::int <= 59, true);
      end if;
      if not v_ok then
        v_errors := v_errors || (v_p || case v_s ->> 'format'
          when 'date' then ': must be a date (YYYY-MM-DD)'
          else ': must be a date-time (RFC 3339, e.g. 2026-12-04T09:30:00Z)' end);
      end if;
    elsif v_s ->> 'format' = 'email'
          and v_str !~ '^[^@ \t\r\n]+@[^@ \t\r\n]+\.[^@ \t\r\n]+$' then
      v_errors := v_errors || (v_p || ': must be an email address');
    end if;

  elsif v_t = 'object' then
    for v_key in select e.value from pg_catalog.jsonb_array_elements_text(v_s -> 'required') with ordinality as e(value, ord)
                 order by e.ord loop
      if not v_v ? v_key then
        v_errors := v_errors || (v_p || ': missing required property ' || pg_catalog.to_json(v_key)::text);
      end if;
    end loop;
    for v_key in select k from pg_catalog.jsonb_object_keys(v_s -> 'properties') as k
                 where v_v ? k order by k collate "C" loop
      v_errors := v_errors || rowflow._form_errors(v_s -> 'properties' -> v_key, v_v -> v_key,
                                                   v_p || '/' || rowflow._form_pointer(v_key), _form_errors.depth + 1);
    end loop;
    v_ap := v_s -> 'additionalProperties';
    if v_ap is not null and v_ap <> 'true'::jsonb then
      for v_key in select k from pg_catalog.jsonb_object_keys(v_v) as k
                   where not coalesce(v_s -> 'properties' ? k, false) order by k collate "C" loop
        if v_ap = 'false'::jsonb then
          v_errors := v_errors || (v_p || ': unexpected property ' || pg_catalog.to_json(v_key)::text);
        else
          v_errors := v_errors || rowflow._form_errors(v_ap, v_v -> v_key,
                                                       v_p || '/' || rowflow._form_pointer(v_key), _form_errors.depth + 1);
        end if;
      end loop;
    end if;

  elsif v_t = 'array' then
    v_len := pg_catalog.jsonb_array_length(v_v);
    if v_len < (v_s ->> 'minItems')::numeric then
      v_errors := v_errors || (v_p || ': must have at least ' || rowflow._form_json(v_s -> 'minItems') || ' items');
    end if;
    if v_len > (v_s ->> 'maxItems')::numeric then
      v_errors := v_errors || (v_p || ': must have at most ' || rowflow._form_json(v_s -> 'maxItems') || ' items');
    end if;
    if v_s ? 'items' then
      for v_elem, v_i in select e.value, e.ord - 1 from pg_catalog.jsonb_array_elements(v_v) with ordinality as e(value, ord) loop
        v_errors := v_errors || rowflow._form_errors(v_s -> 'items', v_elem, v_p || '/' || v_i, _form_errors.depth + 1);
      end loop;
    end if;
  end if;
  return v_errors;
end;
$$;
select rowflow._allow('function rowflow._form_errors(jsonb, jsonb, text, int)', '{}');

-- from sql/schema/30_define/_form_json.sql
create or replace function rowflow._form_json(value jsonb)
returns text
language plpgsql immutable
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_x float8;
  v_text text;
begin
  case pg_catalog.jsonb_typeof(_form_json.value)
    when 'number' then
      begin
        v_x := (_form_json.value #>> '{}')::float8;
      exception when numeric_value_out_of_range then
        return _form_json.value::text;
      end;
      if v_x = 0 then
        return '0'; -- also -0, as String(-0)
      end if;
      v_text := v_x::text;
      if abs(v_x) >= 1e21 or abs(v_x) < 1e-6 then
        -- JavaScript's exponent form: 1.5e-7, 1e+21 (float8 prints 1.5e-07, 1e+21).
        return pg_catalog.regexp_replace(v_text, 'e([+-])0*([0-9])', 'e\1\2');
      end if;
      return (v_text::numeric)::text; -- plain digits: 1e+15 → 1000000000000000
    when 'array' then
      return '[' || coalesce((
        select pg_catalog.string_agg(rowflow._form_json(e.value), ',' order by e.ord)
        from pg_catalog.jsonb_array_elements(_form_json.value) with ordinality as e(value, ord)
      ), '') || ']';
    when 'object' then
      return '{' || coalesce((
        select pg_catalog.string_agg(pg_catalog.to_json(e.key)::text || ':' || rowflow._form_json(e.value),
                                     ',' order by e.key collate "C")
        from pg_catalog.jsonb_each(_form_json.value) as e
      ), '') || '}';
    else
      return _form_json.value::text; -- strings (escaped as JSON.stringify does), booleans, null
  end case;
end;
$$;
select rowflow._allow('function rowflow._form_json(jsonb)', '{}');

-- from sql/schema/30_define/_form_pointer.sql
create or replace function rowflow._form_pointer(name text)
returns text
language sql immutable strict
set search_path to ''
as $$
  select pg_catalog.replace(pg_catalog.replace(_form_pointer.name, '~', '~0'), '/', '~1');
$$;
select rowflow._allow('function rowflow._form_pointer(text)', '{}');

-- from sql/schema/30_define/_form_problem.sql
create or replace function rowflow._form_problem(form jsonb, path text default 'form', depth int default 0)
returns text
language plpgsql immutable
set search_path to ''
as $$
#variable_conflict use_column
declare
  c_keywords constant text[] := array['type', 'enum', 'const', 'minimum', 'maximum', 'exclusiveMinimum',
    'exclusiveMaximum', 'minLength', 'maxLength', 'pattern', 'format', 'properties', 'required',
    'additionalProperties', 'items', 'minItems', 'maxItems', 'title', 'description', 'default',
    'examples', '$schema', '$comment'];
  c_types constant text[] := array['object', 'array', 'string', 'number', 'integer', 'boolean', 'null'];
  c_formats constant text[] := array['date-time', 'date', 'email'];
  v_s jsonb := _form_problem.form;
  v_p text := _form_problem.path;
  v_key text;
  v_val jsonb;
  v_elem jsonb;
  v_i int;
  v_seen text[];
  v_problem text;
begin
  -- GUARD: a schema nests at most 32 deep, and is an object or a boolean.
  if _form_problem.depth > 32 then
    return v_p || ': schemas nest deeper than 32 levels';
  end if;
  if pg_catalog.jsonb_typeof(v_s) = 'boolean' then
    return null;
  end if;
  if pg_catalog.jsonb_typeof(v_s) is distinct from 'object' then
    return v_p || ': a schema must be an object or a boolean, got ' || coalesce(pg_catalog.jsonb_typeof(v_s), 'nothing');
  end if;

  -- PHASE 1: no keyword outside the subset.
  select k into v_key
  from pg_catalog.jsonb_object_keys(v_s) as k
  where k <> all (c_keywords)
  order by k collate "C" limit 1;
  if v_key is not null then
    return v_p || '/' || rowflow._form_pointer(v_key) || ': unsupported keyword ' || pg_catalog.to_json(v_key)::text
      || ' (supported: ' || pg_catalog.array_to_string(c_keywords, ', ') || ')';
  end if;

  -- PHASE 2: each keyword's value, in c_keywords order.
  v_val := v_s -> 'type';
  if v_val is not null then
    if pg_catalog.jsonb_typeof(v_val) = 'string' then
      if (v_val #>> '{}') <> all (c_types) then
        return v_p || '/type: unknown type ' || v_val::text
          || ' (types: ' || pg_catalog.array_to_string(c_types, ', ') || ')';
      end if;
    elsif pg_catalog.jsonb_typeof(v_val) = 'array' and pg_catalog.jsonb_array_length(v_val) > 0 then
      v_seen := '{}';
      for v_elem, v_i in select e.value, e.ord - 1 from pg_catalog.jsonb_array_elements(v_val) with ordinality as e(value, ord) loop
        if pg_catalog.jsonb_typeof(v_elem) <> 'string' then
          return v_p || '/type/' || v_i || ': must be a type name (' || pg_catalog.array_to_string(c_types, ', ') || ')';
        elsif (v_elem #>> '{}') <> all (c_types) then
          return v_p || '/type/' || v_i || ': unknown type ' || v_elem::text
            || ' (types: ' || pg_catalog.array_to_string(c_types, ', ') || ')';
        elsif (v_elem #>> '{}') = any (v_seen) then
          return v_p || '/type/' || v_i || ': lists ' || v_elem::text || ' twice';
        end if;
        v_seen := v_seen || (v_elem #>> '{}');
      end loop;
    else
      return v_p || '/type: must be a type name or a non-empty array of type names';
    end if;
  end if;

  v_val := v_s -> 'enum';
  if v_val is not null and (pg_catalog.jsonb_typeof(v_val) <> 'array' or pg_catalog.jsonb_array_length(v_val) = 0) then
    return v_p || '/enum: must be a non-empty array of the allowed values';
  end if;

  foreach v_key in array array['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'] loop
    v_val := v_s -> v_key;
    continue when v_val is null;
    if pg_catalog.jsonb_typeof(v_val) <> 'number' then
      return v_p || '/' || v_key || ': must be a number';
    end if;
    begin
      perform (v_val #>> '{}')::float8;
    exception when numeric_value_out_of_range then
      return v_p || '/' || v_key || ': must be a number within the range of a double';
    end;
  end loop;

  foreach v_key in array array['minLength', 'maxLength'] loop
    v_val := v_s -> v_key;
    continue when v_val is null;
    if pg_catalog.jsonb_typeof(v_val) <> 'number' or (v_val #>> '{}')::numeric % 1 <> 0
       or (v_val #>> '{}')::numeric not between 0 and 2147483647 then
      return v_p || '/' || v_key || ': must be an integer from 0 to 2147483647';
    end if;
  end loop;

  v_val := v_s -> 'pattern';
  if v_val is not null then
    if pg_catalog.jsonb_typeof(v_val) <> 'string' then
      return v_p || '/pattern: must be a string holding a regular expression';
    end if;
    begin
      perform '' ~ (v_val #>> '{}');
    exception when invalid_regular_expression then
      return v_p || '/pattern: ' || sqlerrm || ' (patterns are POSIX regular expressions, not ECMAScript)';
    end;
  end if;

  v_val := v_s -> 'format';
  if v_val is not null and (pg_catalog.jsonb_typeof(v_val) <> 'string' or (v_val #>> '{}') <> all (c_formats)) then
    return v_p || '/format: unknown format ' || rowflow._form_json(v_val)
      || ' (formats: ' || pg_catalog.array_to_string(c_formats, ', ') || ')';
  end if;

  v_val := v_s -> 'properties';
  if v_val is not null then
    if pg_catalog.jsonb_typeof(v_val) <> 'object' then
      return v_p || '/properties: must be an object mapping property names to schemas';
    end if;
    for v_key in select k from pg_catalog.jsonb_object_keys(v_val) as k order by k collate "C" loop
      v_problem := rowflow._form_problem(v_val -> v_key, v_p || '/properties/' || rowflow._form_pointer(v_key),
                                         _form_problem.depth + 1);
      if v_problem is not null then
        return v_problem;
      end if;
    end loop;
  end if;

  v_val := v_s -> 'required';
  if v_val is not null then
    if pg_catalog.jsonb_typeof(v_val) <> 'array' then
      return v_p || '/required: must be an array of property names';
    end if;
    v_seen := '{}';
    for v_elem, v_i in select e.value, e.ord - 1 from pg_catalog.jsonb_array_elements(v_val) with ordinality as e(value, ord) loop
      if pg_catalog.jsonb_typeof(v_elem) <> 'string' then
        return v_p || '/required/' || v_i || ': must be a property name (a string)';
      elsif (v_elem #>> '{}') = any (v_seen) then
        return v_p || '/required/' || v_i || ': lists ' || v_elem::text || ' twice';
      end if;
      v_seen := v_seen || (v_elem #>> '{}');
    end loop;
  end if;

  foreach v_key in array array['additionalProperties', 'items'] loop
    continue when not v_s ? v_key;
    v_problem := rowflow._form_problem(v_s -> v_key, v_p || '/' || v_key, _form_problem.depth + 1);
    if v_problem is not null then
      return v_problem;
    end if;
  end loop;

  foreach v_key in array array['minItems', 'maxItems'] loop
    v_val := v_s -> v_key;
    continue when v_val is null;
    if pg_catalog.jsonb_typeof(v_val) <> 'number' or (v_val #>> '{}')::numeric % 1 <> 0
       or (v_val #>> '{}')::numeric not between 0 and 2147483647 then
      return v_p || '/' || v_key || ': must be an integer from 0 to 2147483647';
    end if;
  end loop;

  foreach v_key in array array['title', 'description', 'examples', '$schema', '$comment'] loop
    v_problem := case when v_key = 'examples' then 'array' else 'string' end;
    if pg_catalog.jsonb_typeof(v_s -> v_key) <> v_problem then
      return v_p || '/' || v_key || ': must be ' || case when v_key = 'examples' then 'an ' else 'a ' end || v_problem;
    end if;
  end loop;
  return null; -- const and default may be any value
end;
$$;
select rowflow._allow('function rowflow._form_problem(jsonb, text, int)', '{}');

-- from sql/schema/30_define/define_workflow.sql
create or replace function rowflow.define_workflow(name text, spec jsonb, owner name default current_user)
returns int
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  c_name_re constant text := '^[a-z][a-z0-9_-]{0,62}$';
  c_task_re constant text := '^[A-Za-z][A-Za-z0-9_.:-]{0,127}$';
  c_queue_re constant text := '^[A-Za-z0-9_.-]{1,63}$';
  v_key text;
  v_step jsonb;
  v_ord int;
  v_sname text;
  v_where text;
  v_val jsonb;
  v_names text[] := '{}';
  v_norm jsonb[] := '{}';
  v_deps text[];
  v_dep text;
  v_backoff jsonb;
  v_btype text;
  v_bbase interval;
  v_bmax interval;
  v_bjitter double precision;
  v_queue jsonb;
  v_qname text;
  v_qkey text;
  v_at jsonb;
  v_indeg int[];
  v_first int[];
  v_outdeg int[];
  v_to int[];
  v_ready int[];
  v_head int := 1;
  v_done boolean[];
  v_u int;
  v_v int;
  v_path text[];
  v_cur text;
  v_pos int;
  v_cycle text[];
  v_latest int;
  v_latest_spec jsonb;
  v_version int;
  v_owner name;
  v_wait jsonb;
  v_task text;
begin
  -- GUARD: the session acts for owner.
  if define_workflow.owner is null
     or not exists (select 1 from pg_catalog.pg_roles as r where r.rolname = define_workflow.owner)
     or not pg_catalog.pg_has_role(session_user, define_workflow.owner, 'MEMBER') then
    raise exception 'define_workflow: session user % cannot act for role %', session_user,
      coalesce(pg_catalog.quote_ident(define_workflow.owner), 'null') using errcode = '42501';
  end if;
  -- GUARD: the name and the top-level shape.
  if define_workflow.name is null or define_workflow.name !~ c_name_re then
    raise exception 'invalid workflow name %: use 1-63 characters a-z, 0-9, "_" or "-", starting with a lowercase letter',
      coalesce(to_jsonb(left(define_workflow.name, 100))::text, 'null') using errcode = 'RF004';
  end if;
  if jsonb_typeof(define_workflow.spec) is distinct from 'object' then
    raise exception 'workflow "%": the spec must be a JSON object, got %', define_workflow.name,
      coalesce(jsonb_typeof(define_workflow.spec), 'null') using errcode = 'RF001';
  end if;
  if pg_catalog.octet_length(define_workflow.spec::text) > 1048576 then
    raise exception 'workflow "%": the spec is % bytes of JSON; the limit is 1 MiB (1048576 bytes)',
      define_workflow.name, pg_catalog.octet_length(define_workflow.spec::text) using errcode = 'RF001';
  end if;
  for v_key in select k from jsonb_object_keys(define_workflow.spec) as k order by k loop
    if v_key not in ('name', 'description', 'onFailure', 'steps') then
      raise exception 'workflow "%": unknown option %; allowed: name, description, onFailure, steps',
        define_workflow.name, to_jsonb(left(v_key, 100))::text using errcode = 'RF002';
    end if;
  end loop;
  if define_workflow.spec ? 'name' and define_workflow.spec -> 'name' is distinct from to_jsonb(define_workflow.name) then
    raise exception 'workflow "%": spec.name is %, which differs from the name argument; remove it or make them equal',
      define_workflow.name, left((define_workflow.spec -> 'name')::text, 100) using errcode = 'RF001';
  end if;
  if define_workflow.spec ? 'description' and jsonb_typeof(define_workflow.spec -> 'description') <> 'string' then
    raise exception 'workflow "%": description must be a string', define_workflow.name using errcode = 'RF001';
  end if;
  if define_workflow.spec ? 'onFailure' then
    if jsonb_typeof(define_workflow.spec -> 'onFailure') <> 'string' then
      raise exception 'workflow "%": onFailure must be a task name (string)', define_workflow.name using errcode = 'RF001';
    end if;
    if (define_workflow.spec ->> 'onFailure') !~ c_task_re then
      raise exception 'workflow "%": invalid onFailure task name %: use 1-128 characters A-Z, a-z, 0-9, "_", ".", ":" or "-", starting with a letter',
        define_workflow.name, left((define_workflow.spec -> 'onFailure')::text, 140) using errcode = 'RF004';
    end if;
  end if;
  if jsonb_typeof(define_workflow.spec -> 'steps') is distinct from 'array' then
    raise exception 'workflow "%": steps must be an array of step objects', define_workflow.name using errcode = 'RF001';
  end if;
  if jsonb_array_length(define_workflow.spec -> 'steps') = 0 then
    raise exception 'workflow "%" has no steps; add at least one step', define_workflow.name using errcode = 'RF003';
  end if;
  if jsonb_array_length(define_workflow.spec -> 'steps') > 1000 then
    raise exception 'workflow "%" has % steps; at most 1000 are allowed', define_workflow.name,
      jsonb_array_length(define_workflow.spec -> 'steps') using errcode = 'RF001';
  end if;

  -- PHASE 1: each step on its own: shape, names, options, intervals, paths.
  for v_step, v_ord in select e, o - 1 from jsonb_array_elements(define_workflow.spec -> 'steps') with ordinality as t(e, o) loop
    v_where := format('workflow "%s", steps[%s]', define_workflow.name, v_ord);
    if jsonb_typeof(v_step) <> 'object' then
      raise exception '%: a step must be an object', v_where using errcode = 'RF001';
    end if;
    if jsonb_typeof(v_step -> 'name') is distinct from 'string' then
      raise exception '%: "name" is required and must be a string', v_where using errcode = 'RF001';
    end if;
    v_sname := v_step ->> 'name';
    if v_sname !~ c_name_re then
      raise exception '%: invalid step name %: use 1-63 characters a-z, 0-9, "_" or "-", starting with a lowercase letter',
        v_where, to_jsonb(left(v_sname, 100))::text using errcode = 'RF004';
    end if;
    v_where := format('workflow "%s", step "%s"', define_workflow.name, v_sname);
    for v_key in select k from jsonb_object_keys(v_step) as k order by k loop
      if v_key not in ('name', 'task', 'dependsOn', 'attempts', 'backoff', 'timeout', 'priority',
                       'queue', 'delay', 'if', 'compensate', 'startAt', 'wait', 'human', 'waitFor') then
        raise exception '%: unknown option %; allowed: name, task, dependsOn, attempts, backoff, timeout, priority, queue, delay, if, compensate, startAt, wait, human, waitFor',
          v_where, to_jsonb(left(v_key, 100))::text using errcode = 'RF002';
      end if;
    end loop;
    if v_sname = any (v_names) then
      raise exception 'workflow "%": duplicate step name "%"; step names must be unique', define_workflow.name, v_sname
        using errcode = 'RF005';
    end if;
    v_names := v_names || v_sname;

    -- A wait step ("wait", "human", "waitFor") has no task: _compile_wait
    -- rejects one, and its compiled task is '(wait)' / '(human)' /
    -- '(waitFor)', which no handler can be named (task names start with a letter).
    v_wait := null;
    if v_step ?| array['wait', 'human', 'waitFor'] then
      v_wait := rowflow._compile_wait(v_step, v_where, define_workflow.owner);
      v_task := '(' || case when v_step ? 'wait' then 'wait' when v_step ? 'human' then 'human' else 'waitFor' end || ')';
    elsif jsonb_typeof(v_step -> 'task') is distinct from 'string' then
      raise exception '%: "task" is required and must be a string', v_where using errcode = 'RF001',
        hint = 'A step runs a task, or waits: "wait" for a signal, "human" for a person, "waitFor" for a row.';
    else
      v_task := v_step ->> 'task';
    end if;
    if v_wait is null and (v_step ->> 'task') !~ c_task_re then
      raise exception '%: invalid task name %: use 1-128 characters A-Z, a-z, 0-9, "_", ".", ":" or "-", starting with a letter',
        v_where, left((v_step -> 'task')::text, 140) using errcode = 'RF004';
    end if;
    if v_step ? 'compensate' then
      if jsonb_typeof(v_step -> 'compensate') <> 'string' then
        raise exception '%: "compensate" must be a task name (string)', v_where using errcode = 'RF001';
      end if;
      if (v_step ->> 'compensate') !~ c_task_re then
        raise exception '%: invalid compensate task name %: use 1-128 characters A-Z, a-z, 0-9, "_", ".", ":" or "-", starting with a letter',
          v_where, left((v_step -> 'compensate')::text, 140) using errcode = 'RF004';
      end if;
    end if;

    v_deps := '{}';
    if v_step ? 'dependsOn' then
      if jsonb_typeof(v_step -> 'dependsOn') <> 'array' then
        raise exception '%: "dependsOn" must be an array of step names', v_where using errcode = 'RF001';
      end if;
      for v_val in select e from jsonb_array_elements(v_step -> 'dependsOn') as e loop
        if jsonb_typeof(v_val) <> 'string' then
          raise exception '%: "dependsOn" must contain step names (strings), got %', v_where, left(v_val::text, 100)
            using errcode = 'RF001';
        end if;
        v_dep := v_val #>> '{}';
        if v_dep = v_sname then
          raise exception '%: a step cannot depend on itself; remove "%" from its dependsOn', v_where, v_sname
            using errcode = 'RF007';
        end if;
        if v_dep = any (v_deps) then
          raise exception '%: "dependsOn" lists "%" more than once', v_where, v_dep using errcode = 'RF001';
        end if;
        v_deps := v_deps || v_dep;
      end loop;
    end if;

    v_val := v_step -> 'attempts';
    if v_val is not null and (jsonb_typeof(v_val) <> 'number' or v_val::text !~ '^\d+$'
                              or v_val::text::numeric not between 1 and 1000) then
      raise exception '%: "attempts" must be an integer from 1 to 1000, got %', v_where, left(v_val::text, 100)
        using errcode = 'RF001';
    end if;
    v_val := v_step -> 'priority';
    if v_val is not null and (jsonb_typeof(v_val) <> 'number' or v_val::text !~ '^-?\d+$'
                              or v_val::text::numeric not between -1000 and 1000) then
      raise exception '%: "priority" must be an integer from -1000 to 1000, got %', v_where, left(v_val::text, 100)
        using errcode = 'RF001';
    end if;

    -- Backoff: default exponential, base 1s, max 5min, jitter 0.2.
    v_backoff := coalesce(v_step -> 'backoff', '{}');
    if jsonb_typeof(v_backoff) <> 'object' then
      raise exception '%: "backoff" must be an object like {"type": "exponential", "base": "1 second"}', v_where
        using errcode = 'RF001';
    end if;
    for v_key in select k from jsonb_object_keys(v_backoff) as k order by k loop
      if v_key not in ('type', 'base', 'max', 'jitter') then
        raise exception '%: unknown backoff option %; allowed: type, base, max, jitter', v_where,
          to_jsonb(left(v_key, 100))::text using errcode = 'RF002';
      end if;
    end loop;
    v_btype := coalesce(v_backoff ->> 'type', 'exponential');
    if v_backoff ? 'type' and (jsonb_typeof(v_backoff -> 'type') <> 'string' or v_btype not in ('fixed', 'exponential')) then
      raise exception '%: backoff.type must be "fixed" or "exponential", got %', v_where,
        left((v_backoff -> 'type')::text, 100) using errcode = 'RF001';
    end if;
    v_bbase := case when v_backoff ? 'base'
      then rowflow._parse_interval(v_backoff -> 'base', v_where || ': backoff.base') else interval '1 second' end;
    v_bmax := case when v_backoff ? 'max'
      then rowflow._parse_interval(v_backoff -> 'max', v_where || ': backoff.max') else greatest(interval '5 minutes', v_bbase) end;
    if v_bmax < v_bbase then
      raise exception '%: backoff.max (%) is less than backoff.base (%)', v_where, v_bmax, v_bbase using errcode = 'RF010';
    end if;
    v_val := v_backoff -> 'jitter';
    if v_val is not null and (jsonb_typeof(v_val) <> 'number' or v_val::text::numeric not between 0 and 1) then
      raise exception '%: backoff.jitter must be a number from 0 to 1, got %', v_where, left(v_val::text, 100)
        using errcode = 'RF001';
    end if;
    v_bjitter := coalesce(v_val::text::double precision, 0.2);

    if v_step ? 'timeout' and rowflow._parse_interval(v_step -> 'timeout', v_where || ': timeout') <= interval '0' then
      raise exception '%: timeout must be greater than zero', v_where using errcode = 'RF010';
    end if;
    if v_step ? 'delay' then
      perform rowflow._parse_interval(v_step -> 'delay', v_where || ': delay');
    end if;
    if v_step ? 'if' then
      perform rowflow._compile_path(v_step -> 'if', v_where || ': if');
    end if;
    if v_wait is null and v_step ? 'startAt' then
      v_wait := rowflow._compile_wait(v_step, v_where, define_workflow.owner);
    end if;

    -- Queue: "name" or {"name": …, "key": "<path>"}.
    v_queue := v_step -> 'queue';
    v_qname := null;
    v_qkey := null;
    if v_queue is not null then
      if jsonb_typeof(v_queue) = 'string' then
        v_qname := v_queue #>> '{}';
      elsif jsonb_typeof(v_queue) = 'object' then
        for v_key in select k from jsonb_object_keys(v_queue) as k order by k loop
          if v_key not in ('name', 'key') then
            raise exception '%: unknown queue option %; allowed: name, key', v_where, to_jsonb(left(v_key, 100))::text
              using errcode = 'RF002';
          end if;
        end loop;
        if jsonb_typeof(v_queue -> 'name') is distinct from 'string' then
          raise exception '%: queue.name is required and must be a string', v_where using errcode = 'RF001';
        end if;
        v_qname := v_queue ->> 'name';
        if v_queue ? 'key' then
          v_qkey := rowflow._compile_path(v_queue -> 'key', v_where || ': queue.key')::text;
        end if;
      else
        raise exception '%: "queue" must be a queue name or {"name": …, "key": "<path>"}', v_where using errcode = 'RF001';
      end if;
      if v_qname !~ c_queue_re then
        raise exception '%: invalid queue name %: use 1-63 characters A-Z, a-z, 0-9, "_", "." or "-"', v_where,
          to_jsonb(left(v_qname, 100))::text using errcode = 'RF004';
      end if;
    end if;

    v_norm := v_norm || jsonb_build_object(
      'idx', v_ord, 'name', v_sname, 'task', v_task, 'depends_on', to_jsonb(v_deps), 'wait', v_wait,
      'attempts', coalesce((v_step ->> 'attempts')::int, 3),
      'backoff_type', v_btype, 'backoff_base', v_bbase::text, 'backoff_max', v_bmax::text,
      'backoff_jitter', v_bjitter,
      'timeout', rowflow._parse_interval(v_step -> 'timeout', v_where || ': timeout')::text,
      'priority', coalesce((v_step ->> 'priority')::int, 0),
      'queue_name', v_qname, 'queue_key', v_qkey,
      'delay', rowflow._parse_interval(v_step -> 'delay', v_where || ': delay')::text,
      'if_path', case when v_step ? 'if' then rowflow._compile_path(v_step -> 'if', v_where || ': if')::text end,
      'compensate', v_step ->> 'compensate');
  end loop;

  -- PHASE 2: the graph: unknown dependencies, then cycles, in O(steps +
  -- dependencies): each step's position by name in one jsonb object (the
  -- scans this replaces made 1,000 steps take 12 s).
  v_at := (select pg_catalog.jsonb_object_agg(t.n, t.o) from unnest(v_names) with ordinality as t(n, o));
  select format('workflow "%s", step "%s": unknown dependency "%s"; known steps: %s',
                define_workflow.name, s.e ->> 'name', d.name, array_to_string(v_names, ', '))
  into v_where
  from unnest(v_norm) with ordinality as s(e, o),
       jsonb_array_elements_text(s.e -> 'depends_on') with ordinality as d(name, k)
  where not v_at ? d.name
  order by s.o, d.k
  limit 1;
  if found then
    raise exception '%', v_where using errcode = 'RF006';
  end if;

  -- Kahn: a step is done once all its dependencies are. The edges from each
  -- step to its dependents, as positions: v_to[v_first[u] .. + v_outdeg[u] - 1].
  with e as (
    select (v_at ->> d)::int as f, s.o::int as t
    from unnest(v_norm) with ordinality as s(e, o), jsonb_array_elements_text(s.e -> 'depends_on') as d
  ), c as (
    select g.i, count(e.f)::int as n from pg_catalog.generate_series(1, cardinality(v_names)) as g(i)
    left join e on e.f = g.i group by g.i
  )
  select array_agg(x.n order by x.i), array_agg(x.first order by x.i),
         (select coalesce(array_agg(e.t order by e.f, e.t), '{}') from e)
  into v_outdeg, v_first, v_to
  from (select c.i, c.n, (sum(c.n) over (order by c.i) - c.n + 1)::int as first from c) as x;
  v_indeg := array(select jsonb_array_length(e -> 'depends_on') from unnest(v_norm) as e);
  v_done := array_fill(false, array[cardinality(v_names)]);
  v_ready := array(select i from pg_catalog.generate_series(1, cardinality(v_names)) as i where v_indeg[i] = 0);
  while v_head <= cardinality(v_ready) loop
    v_u := v_ready[v_head];
    v_head := v_head + 1;
    v_done[v_u] := true;
    for k in v_first[v_u] .. v_first[v_u] + v_outdeg[v_u] - 1 loop
      v_v := v_to[k];
      v_indeg[v_v] := v_indeg[v_v] - 1;
      if v_indeg[v_v] = 0 then
        v_ready := v_ready || v_v;
      end if;
    end loop;
  end loop;
  if cardinality(v_ready) < cardinality(v_names) then
    -- Walk "depends on" edges inside the blocked set from its first step
    -- (spec order) until a step repeats; that stretch is a cycle.
    v_cur := v_names[array_position(v_done, false)];
    v_path := array[v_cur];
    loop
      select x.d into v_cur
      from jsonb_array_elements_text(v_norm[(v_at ->> v_cur)::int] -> 'depends_on') with ordinality as x(d, o)
      where not v_done[(v_at ->> x.d)::int]
      order by x.o limit 1;
      v_pos := array_position(v_path, v_cur);
      exit when v_pos is not null;
      v_path := v_path || v_cur;
    end loop;
    -- v_path[i] depends on v_path[i+1]; print in execution order.
    v_cycle := array[v_path[v_pos]];
    for i in reverse cardinality(v_path)..v_pos loop
      v_cycle := v_cycle || v_path[i];
    end loop;
    raise exception 'workflow "%": dependency cycle %; ("x -> y" means y depends on x) remove one of these dependsOn entries',
      define_workflow.name, array_to_string(v_cycle, ' -> ') using errcode = 'RF008';
  end if;

  -- PHASE 3: store: same spec as the latest version → that version, else a new one.
  insert into rowflow.workflows as w (name, latest_version, owner)
  values (define_workflow.name, 1, define_workflow.owner)
  on conflict do nothing;
  if found then
    v_version := 1;
  else
    select w.latest_version, w.owner into v_latest, v_owner from rowflow.workflows as w
    where w.name = define_workflow.name for update;
    select wv.spec into v_latest_spec from rowflow.workflow_versions as wv
    where wv.workflow = define_workflow.name and wv.version = v_latest;
    if v_latest_spec = define_workflow.spec then
      return v_latest;
    end if;
    if not pg_catalog.pg_has_role(define_workflow.owner, v_owner, 'USAGE') and not rowflow._trusted() then
      raise exception 'define_workflow: workflow "%" belongs to %; % may not define new versions of it',
        define_workflow.name, v_owner, define_workflow.owner using errcode = '42501',
        hint = pg_catalog.format('Define it as a member of %I, or choose another name.', v_owner);
    end if;
    v_version := v_latest + 1;
    update rowflow.workflows as w set latest_version = v_version, updated_at = now()
    where w.name = define_workflow.name;
  end if;

  insert into rowflow.workflow_versions (workflow, version, spec, spec_hash, on_failure, step_count)
  values (define_workflow.name, v_version, define_workflow.spec, md5(define_workflow.spec::text),
          define_workflow.spec ->> 'onFailure', cardinality(v_names));

  insert into rowflow.workflow_steps (workflow, version, idx, name, task, depends_on, dependents, n_deps,
    attempts, backoff_type, backoff_base, backoff_max, backoff_jitter, timeout, priority,
    queue_name, queue_key, delay, if_path, compensate, wait)
  select define_workflow.name, v_version, (s ->> 'idx')::smallint, s ->> 'name', s ->> 'task',
    array(select jsonb_array_elements_text(s -> 'depends_on')),
    coalesce(dd.dependents, '{}'),
    jsonb_array_length(s -> 'depends_on'),
    (s ->> 'attempts')::smallint, s ->> 'backoff_type', (s ->> 'backoff_base')::interval,
    (s ->> 'backoff_max')::interval, (s ->> 'backoff_jitter')::double precision,
    (s ->> 'timeout')::interval, (s ->> 'priority')::smallint, s ->> 'queue_name',
    (s ->> 'queue_key')::jsonpath, (s ->> 'delay')::interval, (s ->> 'if_path')::jsonpath, s ->> 'compensate',
    case when jsonb_typeof(s -> 'wait') = 'object' then s -> 'wait' end
  from unnest(v_norm) as s
  left join (
    -- Each step's dependents, sorted so that the gate locks them in a fixed order.
    select d.name, array_agg(t.e ->> 'name' order by (t.e ->> 'name') collate "C") as dependents
    from unnest(v_norm) as t(e), jsonb_array_elements_text(t.e -> 'depends_on') as d(name)
    group by d.name
  ) as dd on dd.name = s ->> 'name';

  -- PHASE 4: the audit row of a new version (defining the same spec again,
  -- as every worker start does, returned above without one).
  perform rowflow._audit('define_workflow', define_workflow.name, null, null, null,
                         pg_catalog.jsonb_build_object('version', v_version, 'owner', define_workflow.owner,
                                                       'steps', cardinality(v_names)), null);
  return v_version;
end;
$$;
comment on function rowflow.define_workflow(text, jsonb, name) is
  'Validates and stores a workflow spec (RF001-RF010 on rejection). Returns the version: the latest one if the spec is identical to it, else a new one.';
select rowflow._allow('function rowflow.define_workflow(text, jsonb, name)', '{}');

-- from sql/schema/60_gate/_cancel_steps.sql
create or replace function rowflow._cancel_steps(run_id bigint, kinds text[], reason text, now timestamptz)
returns int
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_run rowflow.runs;
  v_jobs bigint[];
  v_n int;
begin
  select r.* into v_run from rowflow.runs as r where r.id = _cancel_steps.run_id;
  -- PHASE 1: the queued jobs (a leased step has none).
  v_jobs := array(
    select sr.job_id from rowflow.step_runs as sr
    where sr.run_id = _cancel_steps.run_id and sr.kind = any (_cancel_steps.kinds)
      and sr.status = 'queued' and sr.job_id is not null and sr.locked_by is null
    order by sr.job_id);
  if cardinality(v_jobs) > 0 then
    delete from graphile_worker._private_jobs as jobs
    where jobs.id = any (v_jobs)
      and (jobs.locked_at is null or jobs.locked_at < pg_catalog.now() - interval '4 hours');
    update graphile_worker._private_jobs as jobs
    set attempts = jobs.max_attempts, updated_at = pg_catalog.now()
    where jobs.id = any (v_jobs);
  end if;

  -- PHASE 2: the step runs, with and without a row, and their events.
  with c as (
    update rowflow.step_runs as sr
    set status = 'cancelled', finished_at = _cancel_steps.now, locked_by = null
    where sr.run_id = _cancel_steps.run_id and sr.kind = any (_cancel_steps.kinds)
      and sr.status in ('pending', 'queued', 'running')
    returning sr.step, sr.attempt
  ), n as (
    insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts,
                                   created_at, finished_at)
    select _cancel_steps.run_id, ws.name, 'step', 'cancelled', ws.n_deps, 0, ws.attempts,
           v_run.created_at, _cancel_steps.now
    from rowflow.workflow_steps as ws
    where 'step' = any (_cancel_steps.kinds)
      and ws.workflow = v_run.workflow and ws.version = v_run.version
      and not exists (select 1 from rowflow.step_runs as sr
                      where sr.run_id = _cancel_steps.run_id and sr.step = ws.name)
    order by ws.name
    returning step, attempt
  ), cn as (
    select * from c union all select * from n
  ), e as (
    insert into rowflow.events (run_id, step, type, attempt, data, at)
    select _cancel_steps.run_id, cn.step, 'step_cancelled', nullif(cn.attempt, 0),
      jsonb_build_object('reason', _cancel_steps.reason), _cancel_steps.now
    from cn order by cn.step
  )
  select count(*) into v_n from cn;

  -- PHASE 3: their waits end, their open human tasks are cancelled.
  if 'step' = any (_cancel_steps.kinds) then
    delete from rowflow.step_waits as w where w.run_id = _cancel_steps.run_id;
    update rowflow.human_tasks as t set status = 'cancelled'
    where t.run_id = _cancel_steps.run_id and t.status in ('open', 'claimed');
  end if;
  return v_n;
end;
$$;
select rowflow._allow('function rowflow._cancel_steps(bigint, text[], text, timestamptz)', '{}');

-- from sql/schema/60_gate/_release.sql
create or replace function rowflow._release(done rowflow.done_step[], takes int[], worker_id text, now timestamptz,
  key bytea)
returns setof rowflow.released_step
language plpgsql
set search_path to ''
set plan_cache_mode to force_generic_plan
set enable_seqscan to off
set enable_hashjoin to off
set enable_mergejoin to off
set jit to off
as $$
#variable_conflict use_column
declare
  v_frontier rowflow.done_step[] := _release.done;
  v_takes int[] := coalesce(_release.takes, '{}');
  v_can_take boolean;
  v_yield int;
  v_yield_known boolean := false;
  v_dec rowflow.released_step[];
  v_rows rowflow.released_step[];
  v_all rowflow.released_step[] := '{}';
  v_queues text[];
  v_seq regclass := pg_catalog.pg_get_serial_sequence('graphile_worker._private_jobs', 'id')::regclass;
  v_woke int;
begin
  while coalesce(cardinality(v_frontier), 0) > 0 loop
    -- The lowest priority value waiting elsewhere, looked up once (jobs in a
    -- locked named queue do not count: nobody can fetch them; claim_runs.sql).
    v_can_take := _release.worker_id is not null and exists (select 1 from unnest(v_takes) as t where t > 0);
    if v_can_take and not v_yield_known then
      v_yield := least(
        (select r.priority from rowflow.runs as r
         where r.status = 'queued'
           and not exists (select 1 from rowflow.workflows as w where w.name = r.workflow and w.paused)
         order by r.priority limit 1),
        (select j.priority from graphile_worker._private_jobs as j
         where j.is_available = true and j.run_at <= _release.now
           and (j.job_queue_id is null
                or exists (select 1 from graphile_worker._private_job_queues as q
                           where q.id = j.job_queue_id and q.is_available))
         order by j.priority limit 1));
      v_yield_known := true;
    end if;

    -- PHASE 1: decide. One row per dependent of the frontier not decided
    -- yet; `context` carries what the writes need.
    select coalesce(array_agg(row(z.origin, z.run_id, z.name,
             case
               when z.decision <> 'ready' then z.decision
               when z.eligible and z.rn <= coalesce(v_takes[z.origin], 0) then 'running'
               else 'queued'
             end,
             pg_catalog.jsonb_build_object('remaining', z.remaining, 'existed', z.existed, 'attempts', z.attempts,
               'queue', z.queue, 'runAt', _release.now + coalesce(z.delay, interval '0'), 'priority', z.eff_priority,
               'if', z.if_path::text, 'arms', z.wait is not null,
               'context', case when z.eligible and z.rn <= coalesce(v_takes[z.origin], 0) then
                 rowflow._context(z.run_id, z.name, 'step', 1, z.attempts, z.task, z.workflow, z.version, z.input,
                                  z.deps, z.timeout, null, rowflow._lease(_release.key, z.run_id, z.name, 1)) end)
           )::rowflow.released_step order by z.run_id, z.name), '{}')
    into v_dec
    from (
      select y.*,
        row_number() over (partition by y.origin, y.eligible order by y.eff_priority, y.run_id, y.name) as rn
      from (
        select x.*, q.queue,
          (v_can_take and x.decision = 'ready' and q.queue is null and x.wait is null
           and coalesce(x.delay, interval '0') <= interval '0'
           and (v_yield is null or x.eff_priority <= v_yield)) as eligible
        from (
          select d.origin, d.run_id, d.name, ws.task, ws.attempts, ws.delay, ws.timeout, ws.queue_name, ws.wait,
            ws.queue_key, ws.if_path, r.workflow, r.version, r.input,
            greatest(-32768, least(32767, ws.priority + r.priority)) as eff_priority,
            sr.step is not null as existed,
            coalesce(sr.deps_remaining, ws.n_deps) - d.n as remaining,
            dp.deps,
            case
              when coalesce(sr.deps_remaining, ws.n_deps) - d.n > 0 then 'pending'
              when ws.if_path is null then 'ready'
              when coalesce(jsonb_path_match(pg_catalog.jsonb_build_object('input', r.input, 'steps', dp.deps),
                                             ws.if_path, '{}', true), false) then 'ready'
              else 'skipped'
            end as decision
          from (
            select f.run_id, dep.name, count(*)::int as n, max(f.origin) as origin
            from unnest(v_frontier) as f(run_id, step, origin)
            join rowflow.runs as fr on fr.id = f.run_id
            join rowflow.workflow_steps as fs
              on fs.workflow = fr.workflow and fs.version = fr.version and fs.name = f.step
            cross join unnest(fs.dependents) as dep(name)
            group by f.run_id, dep.name
          ) as d
          join rowflow.runs as r on r.id = d.run_id
          join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = d.name
          left join rowflow.step_runs as sr on sr.run_id = d.run_id and sr.step = d.name
          cross join lateral (
            select case when coalesce(sr.deps_remaining, ws.n_deps) - d.n = 0 then
              (select coalesce(pg_catalog.jsonb_object_agg(o.step, o.output), '{}'::jsonb)
               from rowflow.step_runs as o where o.run_id = d.run_id and o.step = any (ws.depends_on)) end as deps
          ) as dp
          -- A row that exists and is no longer pending was decided already.
          where sr.step is null or (sr.kind = 'step' and sr.status = 'pending')
        ) as x
        cross join lateral (
          select case when x.decision = 'ready' and x.queue_name is not null then
            rowflow._queue_name(x.queue_name, x.queue_key,
                                pg_catalog.jsonb_build_object('input', x.input, 'steps', x.deps)) end as queue
        ) as q
      ) as y
    ) as z;

    exit when cardinality(v_dec) = 0;

    -- PHASE 2: named queues must exist before their jobs reference them.
    v_queues := array(select distinct (d.context ->> 'queue') from unnest(v_dec) as d
                      where d.status = 'queued' and d.context ->> 'queue' is not null);
    if cardinality(v_queues) > 0 then
      insert into graphile_worker._private_job_queues as q (queue_name)
      select unnest(v_queues) order by 1
      on conflict do nothing;
    end if;

    -- PHASE 3: jobs for the queued ones, rows (leased for the taken ones), events.
    with w as (
      -- Job ids drawn here, not matched back from the insert (see claim_runs).
      select d.*, case when d.status = 'queued' then pg_catalog.nextval(v_seq) end as job_id
      from unnest(v_dec) as d
    ), jobs as (
      insert into graphile_worker._private_jobs as j
        (id, job_queue_id, task_id, payload, run_at, max_attempts, priority)
      overriding system value
      select
        w.job_id,
        case when w.context ->> 'queue' is not null then
          (select q.id from graphile_worker._private_job_queues as q where q.queue_name = w.context ->> 'queue') end,
        (select t.id from graphile_worker._private_tasks as t
         where t.identifier = case when (w.context ->> 'arms')::boolean then 'rowflow:wait' else 'rowflow:step' end),
        pg_catalog.json_build_object('run', w.run_id, 'step', w.step, 'attempt', 1),
        (w.context ->> 'runAt')::timestamptz, 25, (w.context ->> 'priority')::int
      from w where w.status = 'queued'
      order by w.job_id
    ), upd as (
      update rowflow.step_runs as sr
      set deps_remaining = (w.context ->> 'remaining')::int, status = w.status,
          attempt = case when w.status in ('queued', 'running') then 1 else 0 end,
          queued_at = case when w.status in ('queued', 'running') then _release.now end,
          started_at = case when w.status = 'running' then _release.now end,
          finished_at = case when w.status = 'skipped' then _release.now end,
          job_id = w.job_id,
          locked_by = case when w.status = 'running' then _release.worker_id end
      from w
      where (w.context ->> 'existed')::boolean and sr.run_id = w.run_id and sr.step = w.step
    ), ins as (
      insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts,
                                     created_at, queued_at, started_at, finished_at, job_id, locked_by)
      select w.run_id, w.step, 'step', w.status, (w.context ->> 'remaining')::int,
             case when w.status in ('queued', 'running') then 1 else 0 end, (w.context ->> 'attempts')::int,
             _release.now, case when w.status in ('queued', 'running') then _release.now end,
             case when w.status = 'running' then _release.now end,
             case when w.status = 'skipped' then _release.now end, w.job_id,
             case when w.status = 'running' then _release.worker_id end
      from w where not (w.context ->> 'existed')::boolean
      order by w.run_id, w.step
    ), ev as (
      insert into rowflow.events (run_id, step, type, data, at)
      select w.run_id, w.step, 'step_skipped', pg_catalog.jsonb_build_object('if', w.context ->> 'if'), _release.now
      from w where w.status = 'skipped'
      order by w.run_id, w.step
    )
    select coalesce(array_agg(row(w.origin, w.run_id, w.step, w.status,
             case when w.status = 'running' then
               (w.context -> 'context') || pg_catalog.jsonb_build_object('priority', (w.context ->> 'priority')::int) end
           )::rowflow.released_step order by w.run_id, w.step), '{}')
    into v_rows
    from w;

    v_all := v_all || v_rows;
    -- Takes used by this round; skipped steps are the next frontier.
    v_takes := array(
      select greatest(0, coalesce(v_takes[i], 0) - (select count(*) from unnest(v_rows) as x
                                                    where x.origin = i and x.status = 'running'))::int
      from pg_catalog.generate_series(1, coalesce(cardinality(v_takes), 0)) as i
      order by i);
    v_frontier := array(select row(x.run_id, x.step, x.origin)::rowflow.done_step
                        from unnest(v_rows) as x where x.status = 'skipped' order by x.run_id, x.step);
  end loop;

  if exists (select 1 from unnest(v_all) as x where x.status = 'queued') then
    v_woke := rowflow._wake_all((select count(*)::int from unnest(v_all) as x where x.status = 'queued'), 0, null);
  end if;
  return query select * from unnest(v_all);
end;
$$;
comment on function rowflow._release(rowflow.done_step[], int[], text, timestamptz, bytea) is
  'Internal: releases dependents of succeeded/skipped steps of many runs (conditions, queues, delays); hands up to takes[origin] of them to worker_id.';
select rowflow._allow('function rowflow._release(rowflow.done_step[], int[], text, timestamptz, bytea)', '{}');

-- from sql/schema/60_gate/claim_runs.sql
create or replace function rowflow._claim(worker_id text, take int, max_runs int, now timestamptz, key bytea)
returns jsonb
language plpgsql
set search_path to ''
set plan_cache_mode to force_generic_plan
set enable_seqscan to off
set enable_hashjoin to off
set enable_mergejoin to off
set jit to off
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(_claim.now, pg_catalog.statement_timestamp());
  v_take int := coalesce(_claim.take, 0);
  v_limit int := coalesce(_claim.max_runs, greatest(coalesce(_claim.take, 0), 1));
  v_out record;
  v_seq regclass := pg_catalog.pg_get_serial_sequence('graphile_worker._private_jobs', 'id')::regclass;
  v_woke int;
  v_yield int;
begin
  -- GUARD: arguments.
  if v_take < 0 or v_limit < 0 then
    raise exception 'claim_runs: take and max_runs must not be negative (take %, max_runs %)', v_take, v_limit
      using errcode = '22023';
  end if;
  if v_take > 0 and _claim.worker_id is null then
    raise exception 'claim_runs: take > 0 needs the worker_id that will run the steps' using errcode = '22023';
  end if;
  if v_limit = 0 then
    return '{"runs": 0, "taken": []}';
  end if;
  -- A worker that takes steps does not start a run while an available job
  -- with a lower priority value is due (backfill runs yield to live work).
  if v_take > 0 then
    v_yield := (select j.priority from graphile_worker._private_jobs as j
                where j.is_available = true and j.run_at <= v_now
                  and (j.job_queue_id is null
                       or exists (select 1 from graphile_worker._private_job_queues as q
                                  where q.id = j.job_queue_id and q.is_available))
                order by j.priority limit 1);
  end if;

  -- PHASE 1: one statement: the runs; the plan of every step of theirs (a
  -- root step is skipped by its condition, taken — the first `take`
  -- eligible ones in claim order — or queued; the others get pending rows
  -- now, so that releasing them later only updates a row); jobs for the
  -- queued roots; the rows; skip events.
  with c as (
    select r.id,
           exists (select 1 from rowflow.workflow_versions as wv
                   where wv.workflow = r.workflow and wv.version = r.version) as known
    from rowflow.runs as r
    where r.status = 'queued' and (v_yield is null or r.priority <= v_yield)
      and not exists (select 1 from rowflow.workflows as w where w.name = r.workflow and w.paused)
    order by r.priority, r.id
    limit v_limit
    for no key update skip locked
  ), u as (
    -- A run of a workflow version that does not exist (inserted by hand, a
    -- broken restore) fails here, RF025, instead of running forever.
    update rowflow.runs as r
    set status = case when c.known then 'running' else 'failed' end, started_at = v_now, updated_at = v_now,
        finished_at = case when c.known then null else v_now end,
        error = case when c.known then null else pg_catalog.jsonb_build_object('code', 'RF025',
                  'message', pg_catalog.format('workflow %s has no version %s', r.workflow, r.version)) end
    from c where r.id = c.id
    returning r.id, r.workflow, r.version, r.input, r.priority, r.status, r.error
  ), bad as (
    insert into rowflow.events (run_id, type, data, at)
    select u.id, 'run_failed', pg_catalog.jsonb_build_object('error', u.error), v_now
    from u where u.status = 'failed'
  ), s as (
    select u.id as run_id, u.workflow, u.version, u.input, ws.name as step, ws.task, ws.attempts, ws.delay,
      ws.timeout, ws.if_path, ws.n_deps, ws.n_deps = 0 as root,
      greatest(-32768, least(32767, ws.priority + u.priority)) as priority, q.queue, g.go,
      (ws.n_deps = 0 and g.go and q.queue is null and coalesce(ws.delay, interval '0') <= interval '0'
       and ws.wait is null) as eligible, ws.wait is not null as arms,
      u.priority as run_priority
    from u
    join rowflow.workflow_steps as ws on ws.workflow = u.workflow and ws.version = u.version and u.status = 'running'
    cross join lateral (
      select ws.n_deps = 0 and (ws.if_path is null
        or coalesce(jsonb_path_match(pg_catalog.jsonb_build_object('input', u.input, 'steps', '{}'::jsonb),
                                     ws.if_path, '{}', true), false)) as go
    ) as g
    cross join lateral (
      select case when g.go and ws.queue_name is not null then
        rowflow._queue_name(ws.queue_name, ws.queue_key,
                            pg_catalog.jsonb_build_object('input', u.input, 'steps', '{}'::jsonb)) end as queue
    ) as q
  ), d as (
    select s.*,
      case when not s.root then 'pending'
           when not s.go then 'skipped'
           when s.eligible
                and row_number() over (partition by s.eligible
                                       order by s.run_priority, s.run_id, s.priority, s.step) <= v_take
             then 'running'
           else 'queued' end as status
    from s
  ), p as (
    -- Job ids drawn here (graphile's own sequence), not matched back from
    -- the insert's RETURNING: a join of thousands of rows against it would
    -- be a nested loop with hash joins off.
    select d.*, case when d.status = 'queued' then pg_catalog.nextval(v_seq) end as job_id
    from d
  ), jobs as (
    insert into graphile_worker._private_jobs as j (id, job_queue_id, task_id, payload, run_at, max_attempts, priority)
    overriding system value
    select
      p.job_id,
      null,
      (select t.id from graphile_worker._private_tasks as t
       where t.identifier = case when p.arms then 'rowflow:wait' else 'rowflow:step' end),
      pg_catalog.json_build_object('run', p.run_id, 'step', p.step, 'attempt', 1),
      v_now + coalesce(p.delay, interval '0'), 25, p.priority
    from p where p.status = 'queued'
    order by p.job_id
  ), ins as (
    insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts,
                                   created_at, queued_at, started_at, finished_at, job_id, locked_by)
    select p.run_id, p.step, 'step', p.status, case when p.status = 'pending' then p.n_deps else 0 end,
           case when p.status in ('queued', 'running') then 1 else 0 end,
           p.attempts, v_now, case when p.status in ('queued', 'running') then v_now end,
           case when p.status = 'running' then v_now end, case when p.status = 'skipped' then v_now end, p.job_id,
           case when p.status = 'running' then _claim.worker_id end
    from p
    order by p.run_id, p.step
  ), ev as (
    insert into rowflow.events (run_id, step, type, data, at)
    select p.run_id, p.step, 'step_skipped', pg_catalog.jsonb_build_object('if', p.if_path::text), v_now
    from p where p.status = 'skipped'
    order by p.run_id, p.step
  )
  select (select count(*)::int from u where u.status = 'running') as runs,
         coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'ok', true, 'runId', p.run_id::text, 'step', p.step, 'task', p.task,
           'workflow', p.workflow, 'version', p.version, 'input', p.input, 'deps', '{}'::jsonb,
           'attempt', 1, 'maxAttempts', p.attempts,
           'timeoutMs', (extract(epoch from p.timeout) * 1000)::bigint,
           'idempotencyKey', 'rowflow:' || p.run_id || ':' || p.step,
           'kind', 'step', 'runError', null, 'priority', p.priority,
           'lease', rowflow._lease(_claim.key, p.run_id, p.step, 1))
           order by p.run_priority, p.run_id, p.priority, p.step)
           filter (where p.status = 'running'), '[]'::jsonb) as taken,
         count(*) filter (where p.status = 'queued')::int as queued,
         coalesce(array_agg(row(p.run_id, p.step, 1)::rowflow.done_step order by p.run_id, p.step)
                  filter (where p.status = 'skipped'), '{}') as skipped,
         pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', p.job_id, 'queue', p.queue))
           filter (where p.status = 'queued' and p.queue is not null) as queue_jobs
  into v_out
  from p;

  -- PHASE 2 (rare): jobs of named queues: the queue rows (created when
  -- missing) and their ids, before anything commits.
  if v_out.queue_jobs is not null then
    insert into graphile_worker._private_job_queues as jq (queue_name)
    select distinct x ->> 'queue' from pg_catalog.jsonb_array_elements(v_out.queue_jobs) as x
    on conflict do nothing;
    update graphile_worker._private_jobs as j
    set job_queue_id = jq.id
    from pg_catalog.jsonb_array_elements(v_out.queue_jobs) as x
    join graphile_worker._private_job_queues as jq on jq.queue_name = x ->> 'queue'
    where j.id = (x ->> 'id')::bigint;
  end if;

  -- PHASE 3: runs with skipped root steps: release what the skips satisfy
  -- (rare), then finish the runs that have nothing left.
  if cardinality(v_out.skipped) > 0 then
    perform rowflow._release(v_out.skipped, null, null, v_now, null);
    perform rowflow._finish_runs(array(select distinct d.run_id from unnest(v_out.skipped) as d), v_now);
  end if;
  -- Jobs for a waiting worker; a hint for live views (rowflow tail shows
  -- run_started and the first steps at once instead of at its next poll).
  if v_out.queued > 0 or v_out.runs > 0 then
    v_woke := rowflow._wake_all(v_out.queued, 0,
      case when v_out.runs > 0 then pg_catalog.jsonb_build_object('claimed', v_out.runs) end);
  end if;
  return pg_catalog.jsonb_build_object('runs', v_out.runs, 'taken', v_out.taken);
end;
$$;
select rowflow._allow('function rowflow._claim(text, int, int, timestamptz, bytea)', '{}');

-- from sql/schema/60_gate/complete_steps.sql
create or replace function rowflow.complete_steps(
  run_ids bigint[], steps text[], attempts int[], outputs jsonb[],
  takes int[] default null, worker_id text default null, now timestamptz default null,
  claim boolean default false, reserve int default 0,
  next_run_ids bigint[] default null, next_steps text[] default null, next_attempts int[] default null,
  leases text[] default null, worker_token text default null)
returns setof jsonb
language plpgsql
security definer
set search_path to ''
set plan_cache_mode to force_generic_plan
set enable_seqscan to off
set enable_hashjoin to off
set enable_mergejoin to off
set jit to off
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(complete_steps.now, pg_catalog.statement_timestamp());
  v_n int := coalesce(cardinality(complete_steps.run_ids), 0);
  v_worker text := complete_steps.worker_id;
  v_takes int[];
  v_reserve int := case when complete_steps.worker_id is null then 0 else greatest(coalesce(complete_steps.reserve, 0), 0) end;
  v_next_os int[];
  v_done record;
  v_plan record;
  v_yield int;
  v_job_ids bigint[] := '{}';
  v_job_runs bigint[] := '{}';
  v_job_steps text[] := '{}';
  v_taken text[] := '{}';
  v_reserved text[] := '{}';
  v_left int[];
  v_rel rowflow.released_step[] := '{}';
  v_open bigint[];
  v_run rowflow.runs;
  v_next text;
  v_chained jsonb := '{}';
  v_status jsonb := '{}';
  v_begun jsonb := '{}';
  v_claimed jsonb;
  v_claimed_taken jsonb;
  v_claim_i int;
  v_refusals jsonb;
  v_queued int := 0;
  v_by_call jsonb;
  v_answer jsonb;
  v_i int;
  v_woke int;
  v_key bytea;
  v_trusted boolean;
  v_limit int := coalesce(nullif(pg_catalog.current_setting('rowflow.max_output_bytes', true), '')::int, 1048576);
begin
  -- GUARD: a worker; one value per call in every array; the worker's token
  -- when it takes or reserves steps.
  perform rowflow._require('{worker}');
  if coalesce(cardinality(complete_steps.steps), 0) <> v_n
     or coalesce(cardinality(complete_steps.attempts), 0) <> v_n
     or coalesce(cardinality(complete_steps.outputs), v_n) <> v_n
     or coalesce(cardinality(complete_steps.takes), v_n) <> v_n
     or coalesce(cardinality(complete_steps.next_run_ids), v_n) <> v_n
     or coalesce(cardinality(complete_steps.next_steps), v_n) <> v_n
     or coalesce(cardinality(complete_steps.next_attempts), v_n) <> v_n
     or coalesce(cardinality(complete_steps.leases), v_n) <> v_n then
    raise exception 'complete_steps: every array argument must have one value per call' using errcode = '22023';
  end if;
  if v_n = 0 then
    return;
  end if;
  if v_worker is not null then
    perform rowflow._check_worker(v_worker, complete_steps.worker_token);
  end if;
  v_key := rowflow._secret();
  v_trusted := complete_steps.leases is null and rowflow._trusted();
  -- Simple expressions where they do (no statement to start): a take that
  -- is null or negative counts as 0 wherever takes are compared (> 0).
  v_takes := case when v_worker is null or complete_steps.takes is null then array_fill(0, array[v_n])
                  else complete_steps.takes end;
  v_next_os := '{}';
  if v_worker is not null and complete_steps.next_run_ids is not null then
    v_next_os := array(select i from pg_catalog.generate_series(1, v_n) as i
                       where complete_steps.next_run_ids[i] is not null);
  end if;

  -- PHASE 1: lock order: the runs (id order: completions' and next steps'),
  -- then step rows. The running attempts succeed and lose their leases.
  with l as (
    select r.id, r.status from rowflow.runs as r
    where r.id = any (complete_steps.run_ids || coalesce(complete_steps.next_run_ids, '{}'))
    order by r.id
    for no key update
  ), c as (
    -- Fenced: the call shows the attempt's lease token (a trusted session
    -- may omit every token). An output over the limit (rowflow.max_output_bytes,
    -- default 1 MiB of JSON text) is refused, so that the worker fails the step.
    select x.*,
      case when x.lease is null then v_trusted
           else x.lease = rowflow._lease(v_key, x.run_id, x.step, x.attempt) end as fenced,
      x.output is not null and pg_catalog.pg_column_size(x.output) > v_limit / 6
        and pg_catalog.octet_length(x.output::text) > v_limit as too_big
    from unnest(complete_steps.run_ids, complete_steps.steps, complete_steps.attempts, complete_steps.outputs,
                coalesce(complete_steps.leases, array_fill(null::text, array[v_n])))
         with ordinality as x(run_id, step, attempt, output, lease, o)
  ), u as (
    update rowflow.step_runs as sr
    set status = 'succeeded', output = c.output, finished_at = v_now, locked_by = null
    from c join l on l.id = c.run_id and l.status in ('running', 'compensating')
    where sr.run_id = c.run_id and sr.step = c.step and sr.attempt = c.attempt and sr.status = 'running'
      and c.fenced and not c.too_big
    returning c.o, sr.run_id, sr.step, sr.kind
  )
  select coalesce(array_agg(u.o::int order by u.o), '{}') as os,
         coalesce(array_agg(row(u.run_id, u.step, u.o)::rowflow.done_step order by u.run_id, u.step)
                  filter (where u.kind = 'step'), '{}') as steps,
         coalesce(array_agg(distinct u.run_id) filter (where u.kind <> 'step'), '{}') as chain_runs,
         coalesce(array_agg(distinct u.run_id), '{}') as runs,
         (select pg_catalog.jsonb_object_agg(l.id::text, l.status) from l) as run_status,
         (select pg_catalog.jsonb_object_agg(c.o::text, case when not c.fenced
             then '{"ok": false, "reason": "not_lease_holder"}'::jsonb
             else pg_catalog.jsonb_build_object('ok', false, 'reason', 'output_too_large',
                    'bytes', pg_catalog.octet_length(c.output::text), 'limit', v_limit) end)
          from c where not c.fenced or c.too_big) as unfenced,
         -- Who waits for a NOTIFY (sql/schema/20_tables/31_waiters.sql):
         -- usually nobody, and then no _wake_all call at the end.
         (select pg_catalog.array_agg(w.channel) from rowflow.waiters as w
          where w.channel in ('jobs:insert', 'rowflow') and w.until > pg_catalog.statement_timestamp()) as waiting
  into v_done
  from u;

  -- PHASE 2: release dependents. The plan: each dependent of a completed
  -- step, its counter after this batch, and whether the fast path applies.
  v_left := v_takes;
  if cardinality(v_done.steps) > 0 then
    select coalesce(bool_and(x.plain), true) as plain,
           coalesce(array_agg(x.run_id::text || ':' || x.name order by x.eff_priority, x.origin, x.run_id, x.name)
                    filter (where x.remaining = 0), '{}') as ready,
           coalesce(array_agg(x.origin order by x.eff_priority, x.origin, x.run_id, x.name)
                    filter (where x.remaining = 0), '{}') as ready_origin,
           coalesce(array_agg(x.eff_priority order by x.eff_priority, x.origin, x.run_id, x.name)
                    filter (where x.remaining = 0), '{}') as ready_priority,
           coalesce(array_agg(row(x.origin, x.run_id, x.name, x.n)::rowflow.dependent
                              order by x.run_id, x.name), '{}') as deps,
           max(x.eff_priority) filter (where x.remaining = 0) as worst
    into v_plan
    from (
      select d.origin, d.run_id, d.name, d.n,
        sr.step is not null and sr.kind = 'step' and ws.if_path is null and ws.queue_name is null
          and coalesce(ws.delay, interval '0') <= interval '0' and ws.wait is null as plain,
        coalesce(sr.deps_remaining, ws.n_deps) - d.n as remaining,
        greatest(-32768, least(32767, ws.priority + r.priority)) as eff_priority
      from (
        select f.run_id, dep.name, count(*)::int as n, max(f.origin) as origin
        from unnest(v_done.steps) as f(run_id, step, origin)
        join rowflow.runs as fr on fr.id = f.run_id
        join rowflow.workflow_steps as fs on fs.workflow = fr.workflow and fs.version = fr.version and fs.name = f.step
        cross join unnest(fs.dependents) as dep(name)
        group by f.run_id, dep.name
      ) as d
      join rowflow.runs as r on r.id = d.run_id
      join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = d.name
      left join rowflow.step_runs as sr on sr.run_id = d.run_id and sr.step = d.name
      where sr.step is null or (sr.kind = 'step' and sr.status = 'pending')
    ) as x;

    if v_plan.plain then
      -- Who runs the ready ones: call i's slots (takes[i]), this worker's
      -- local queue (reserve), or graphile (a job). Not this worker while
      -- something with a lower priority value waits (that some worker can
      -- fetch: not in a locked named queue, see claim_runs.sql).
      if cardinality(v_plan.ready) > 0 and v_worker is not null
         and (v_reserve > 0 or 0 < any (v_takes)) then
        -- Only what beats the worst ready priority matters: bounded index
        -- scans, which stop at the first page past the bound (claimed runs
        -- leave dead entries at the start of runs_queued_idx until vacuum).
        v_yield := least(
          (select r.priority from rowflow.runs as r
           where r.status = 'queued' and r.priority < v_plan.worst
             and not exists (select 1 from rowflow.workflows as w where w.name = r.workflow and w.paused)
           order by r.priority limit 1),
          (select j.priority from graphile_worker._private_jobs as j
           where j.is_available = true and j.run_at <= v_now and j.priority < v_plan.worst
             and (j.job_queue_id is null
                  or exists (select 1 from graphile_worker._private_job_queues as q
                             where q.id = j.job_queue_id and q.is_available))
           order by j.priority limit 1));
        for v_i in 1 .. cardinality(v_plan.ready) loop
          exit when v_yield is not null and v_plan.ready_priority[v_i] > v_yield;
          if v_left[v_plan.ready_origin[v_i]] > 0 then
            v_taken := v_taken || v_plan.ready[v_i];
            v_left[v_plan.ready_origin[v_i]] := v_left[v_plan.ready_origin[v_i]] - 1;
          elsif v_reserve > 0 then
            v_reserved := v_reserved || v_plan.ready[v_i];
            v_reserve := v_reserve - 1;
          end if;
        end loop;
      end if;
      -- Jobs for the ready ones graphile runs (none when this worker takes
      -- or reserves them all: no INSERT to start).
      if cardinality(v_plan.ready) > cardinality(v_taken) + cardinality(v_reserved) then
        with j as (
        insert into graphile_worker._private_jobs as j (job_queue_id, task_id, payload, run_at, max_attempts, priority)
        select null,
               (select t.id from graphile_worker._private_tasks as t where t.identifier = 'rowflow:step'),
               pg_catalog.json_build_object('run', k.run_id, 'step', k.name, 'attempt', 1),
               v_now, 25, greatest(-32768, least(32767, ws.priority + r.priority))
        from (
          select split_part(x.k, ':', 1)::bigint as run_id, substr(x.k, strpos(x.k, ':') + 1) as name
          from unnest(v_plan.ready) as x(k)
          where not x.k = any (v_taken) and not x.k = any (v_reserved)
        ) as k
        join rowflow.runs as r on r.id = k.run_id
        join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = k.name
        order by k.run_id, k.name
        returning j.id, (j.payload ->> 'run')::bigint as run_id, j.payload ->> 'step' as step
        )
        select pg_catalog.array_agg(j.id), pg_catalog.array_agg(j.run_id), pg_catalog.array_agg(j.step)
        into v_job_ids, v_job_runs, v_job_steps
        from j;
      end if;
      -- One statement: every dependent's row updated (leased when taken or
      -- reserved, with its job otherwise), and what the answers need.
      with d as (
        select * from unnest(v_plan.deps) as d(origin, run_id, name, n)
      ), j as (
        select * from unnest(v_job_ids, v_job_runs, v_job_steps) as j(id, run_id, step)
      ), u as (
        update rowflow.step_runs as sr
        set deps_remaining = sr.deps_remaining - d.n,
            status = case when sr.deps_remaining > d.n then 'pending'
                          when (sr.run_id::text || ':' || sr.step) = any (v_taken) then 'running'
                          else 'queued' end,
            attempt = case when sr.deps_remaining > d.n then 0 else 1 end,
            queued_at = case when sr.deps_remaining = d.n then v_now end,
            started_at = case when (sr.run_id::text || ':' || sr.step) = any (v_taken) then v_now end,
            job_id = j.id,
            locked_by = case when sr.deps_remaining = d.n
                              and ((sr.run_id::text || ':' || sr.step) = any (v_taken)
                                   or (sr.run_id::text || ':' || sr.step) = any (v_reserved)) then v_worker end
        from d left join j on j.run_id = d.run_id and j.step = d.name
        where sr.run_id = d.run_id and sr.step = d.name and sr.status = 'pending'
        returning d.origin, sr.run_id, sr.step, sr.status, sr.locked_by, sr.max_attempts
      )
      select coalesce(array_agg(row(u.origin, u.run_id, u.step,
               case when u.status = 'queued' and u.locked_by is not null then 'reserved' else u.status end,
               case when u.status = 'running' then pg_catalog.jsonb_build_object(
                 'ok', true, 'runId', u.run_id::text, 'step', u.step, 'task', ws.task,
                 'workflow', r.workflow, 'version', r.version, 'input', r.input,
                 'deps', (select coalesce(pg_catalog.jsonb_object_agg(o.step, o.output), '{}'::jsonb)
                          from rowflow.step_runs as o where o.run_id = u.run_id and o.step = any (ws.depends_on)),
                 'attempt', 1, 'maxAttempts', u.max_attempts,
                 'timeoutMs', (extract(epoch from ws.timeout) * 1000)::bigint,
                 'idempotencyKey', 'rowflow:' || u.run_id || ':' || u.step,
                 'kind', 'step', 'runError', null,
                 'priority', greatest(-32768, least(32767, ws.priority + r.priority)),
                 'lease', rowflow._lease(v_key, u.run_id, u.step, 1))
                    when u.status = 'queued' and u.locked_by is not null then pg_catalog.jsonb_build_object(
                 'runId', u.run_id::text, 'step', u.step, 'attempt', 1,
                 'priority', greatest(-32768, least(32767, ws.priority + r.priority))) end
             )::rowflow.released_step order by u.run_id, u.step), '{}'),
             count(*) filter (where u.status = 'queued' and u.locked_by is null)::int
      into v_rel, v_queued
      from u
      join rowflow.runs as r on r.id = u.run_id
      join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = u.step;
    else
      -- The general path: conditions, queues, delays, rows to create.
      v_rel := array(select rowflow._release(v_done.steps, v_takes, v_worker, v_now, v_key));
      v_left := array(select greatest(0, t.n - (select count(*) from unnest(v_rel) as x
                                                where x.origin = t.o and x.status = 'running'))::int
                      from unnest(v_takes) with ordinality as t(n, o) order by t.o);
    end if;
  end if;
  -- Runs that go on: a dependent of theirs is pending, queued or running now.
  v_open := array(select distinct x.run_id from unnest(v_rel) as x where x.status <> 'skipped');

  -- PHASE 3: the next link of compensation / on-failure chains (rare).
  if cardinality(v_done.chain_runs) > 0 then
    for v_run in select r.* from rowflow.runs as r where r.id = any (v_done.chain_runs) order by r.id loop
      v_next := rowflow._advance_chain_step(v_run, v_now);
      if v_next is not null then
        v_chained := v_chained || pg_catalog.jsonb_build_object(v_run.id::text, v_next);
        v_open := v_open || v_run.id;
      end if;
    end loop;
  end if;

  -- PHASE 4: finish the runs left with nothing open: a running one
  -- succeeds when no step row of it is pending, queued or running (every
  -- step has a row then: a finished step gave each dependent one); a
  -- compensating one takes _finish_runs (the chain's results).
  if exists (select 1 from unnest(v_done.runs) as x where not x = any (v_open)) then
    with f as (
      update rowflow.runs as r
      set status = 'succeeded', updated_at = v_now, finished_at = v_now
      where r.id = any (array(select x from unnest(v_done.runs) as x where not x = any (v_open)))
        and r.status = 'running'
        and not exists (select 1 from rowflow.step_runs as sr
                        where sr.run_id = r.id and sr.status in ('pending', 'queued', 'running'))
      returning r.id
    )
    select coalesce(pg_catalog.jsonb_object_agg(f.id::text, 'succeeded'), '{}') into v_status from f;
    if exists (select 1 from unnest(v_done.runs) as x where not x = any (v_open)
               and v_done.run_status ->> x::text = 'compensating') then
      select v_status || coalesce(pg_catalog.jsonb_object_agg(f.run_id::text, f.status), '{}') into v_status
      from rowflow._finish_runs(array(select x from unnest(v_done.runs) as x
                                      where not x = any (v_open)
                                        and v_done.run_status ->> x::text = 'compensating'), v_now) as f;
    end if;
  end if;

  -- PHASE 5: a call's slot that took no dependent runs its reserved next
  -- step (a slot that did keeps the next step queued: the worker puts it
  -- back).
  if cardinality(v_next_os) > 0 then
    v_next_os := array(select i from unnest(v_next_os) as i where v_left[i] > 0 order by i);
  end if;
  if cardinality(v_next_os) > 0 then
    v_begun := rowflow._begin(
      array(select complete_steps.next_run_ids[i] from unnest(v_next_os) as i),
      array(select complete_steps.next_steps[i] from unnest(v_next_os) as i),
      array(select complete_steps.next_attempts[i] from unnest(v_next_os) as i),
      v_next_os, v_worker, v_now, true, v_key);
    foreach v_i in array v_next_os loop
      if (v_begun -> (v_i::text) ->> 'ok')::boolean then
        v_left[v_i] := v_left[v_i] - 1;
      end if;
    end loop;
  end if;

  -- PHASE 6: slots left over claim queued runs.
  if complete_steps.claim and v_worker is not null and 0 < any (v_left) then
    v_claimed := rowflow._claim(v_worker, (select sum(t)::int from unnest(v_left) as t),
                                (select sum(t)::int from unnest(v_left) as t), v_now, v_key);
  end if;

  -- PHASE 7: answers in call order, assembled in plpgsql (no statement per
  -- call): what the release decided, grouped by call; claimed root steps
  -- fill the calls' leftover slots in call order.
  if cardinality(v_done.os) < v_n then
    select coalesce(v_done.unfenced, '{}'::jsonb)
           || coalesce(pg_catalog.jsonb_object_agg(f.o::text, f.refusal) filter (where not coalesce(v_done.unfenced, '{}'::jsonb) ? f.o::text), '{}')
    into v_refusals
    from rowflow._refusals(
      array(select c.run_id from unnest(complete_steps.run_ids) with ordinality as c(run_id, o)
            where not c.o = any (v_done.os) order by c.o),
      array(select c.step from unnest(complete_steps.steps) with ordinality as c(step, o)
            where not c.o = any (v_done.os) order by c.o),
      array(select c.attempt from unnest(complete_steps.attempts) with ordinality as c(attempt, o)
            where not c.o = any (v_done.os) order by c.o),
      array(select i from pg_catalog.generate_series(1, v_n) as i where not i = any (v_done.os) order by i),
      array['running']) as f;
  end if;
  if cardinality(v_rel) > 0 then
    select pg_catalog.jsonb_object_agg(g.origin::text, g.answer) into v_by_call
    from (
      select x.origin, pg_catalog.jsonb_build_object(
        'released', coalesce(pg_catalog.jsonb_agg(x.step order by x.step)
                               filter (where x.status in ('queued', 'running', 'reserved')), '[]'::jsonb),
        'skipped', coalesce(pg_catalog.jsonb_agg(x.step order by x.step) filter (where x.status = 'skipped'), '[]'::jsonb),
        'taken', coalesce(pg_catalog.jsonb_agg(x.context order by x.run_id, x.step)
                            filter (where x.status = 'running'), '[]'::jsonb),
        'reserved', coalesce(pg_catalog.jsonb_agg(x.context order by x.run_id, x.step)
                               filter (where x.status = 'reserved'), '[]'::jsonb)) as answer
      from unnest(v_rel) as x
      group by x.origin
    ) as g;
  end if;
  if 'rowflow' = any (v_done.waiting) or (v_queued > 0 and 'jobs:insert' = any (v_done.waiting)) then
    v_woke := rowflow._wake_all(v_queued, 0,
      case when cardinality(v_done.runs) = 1 then pg_catalog.jsonb_build_object('run', v_done.runs[1])
           else pg_catalog.jsonb_build_object('runs', cardinality(v_done.runs)) end);
  end if;
  v_claimed_taken := coalesce(v_claimed -> 'taken', '[]'::jsonb);
  v_claim_i := 0;
  for v_i in 1 .. v_n loop
    v_answer := coalesce(v_by_call -> (v_i::text), '{"released": [], "skipped": [], "taken": [], "reserved": []}'::jsonb);
    -- The reserved step begun for this call's slot goes first.
    if (v_begun -> (v_i::text) ->> 'ok')::boolean then
      v_answer := pg_catalog.jsonb_set(v_answer, '{taken}',
                                       pg_catalog.jsonb_build_array(v_begun -> (v_i::text)) || (v_answer -> 'taken'));
    end if;
    if v_left[v_i] > 0 and v_claim_i < pg_catalog.jsonb_array_length(v_claimed_taken) then
      v_answer := pg_catalog.jsonb_set(v_answer, '{taken}', (v_answer -> 'taken')
        || coalesce((select pg_catalog.jsonb_agg(e) from pg_catalog.jsonb_array_elements(v_claimed_taken)
                     with ordinality as t(e, k) where t.k > v_claim_i and t.k <= v_claim_i + v_left[v_i]), '[]'::jsonb));
      v_claim_i := v_claim_i + v_left[v_i];
    end if;
    if v_i = any (v_done.os) then
      v_answer := v_answer || pg_catalog.jsonb_build_object('ok', true, 'runStatus',
        coalesce(v_status ->> complete_steps.run_ids[v_i]::text, v_done.run_status ->> complete_steps.run_ids[v_i]::text));
      if v_chained ? complete_steps.run_ids[v_i]::text and pg_catalog.jsonb_array_length(v_answer -> 'released') = 0 then
        v_answer := pg_catalog.jsonb_set(v_answer, '{released}',
                                         pg_catalog.jsonb_build_array(v_chained ->> complete_steps.run_ids[v_i]::text));
      end if;
    else
      v_answer := (v_refusals -> (v_i::text)) || (v_answer - 'released' - 'skipped');
    end if;
    if v_claimed is not null then
      v_answer := v_answer || pg_catalog.jsonb_build_object('claimedRuns', v_claimed -> 'runs');
    end if;
    return next v_answer;
  end loop;
end;
$$;
comment on function rowflow.complete_steps(bigint[], text[], int[], jsonb[], int[], text, timestamptz, boolean, int, bigint[], text[], int[], text[], text) is
  'Completes running step attempts (set-based; each with its lease token), releases dependents (taken, reserved or queued), begins reserved next steps, claims queued runs for leftover slots, finishes runs; one answer per call.';
select rowflow._allow('function rowflow.complete_steps(bigint[], text[], int[], jsonb[], int[], text, timestamptz, boolean, int, bigint[], text[], int[], text[], text)', '{worker}');

-- from sql/schema/60_gate/fail_lost_attempt.sql
create or replace function rowflow.fail_lost_attempt(run_id bigint, step text, attempt int, worker_id text,
  now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_sr rowflow.step_runs;
  v_deliveries int;
begin
  -- GUARD: a worker; the step running with that attempt; its job locked by worker_id.
  perform rowflow._require('{worker}');
  perform 1 from rowflow.runs as r where r.id = fail_lost_attempt.run_id for no key update;
  select sr.* into v_sr from rowflow.step_runs as sr
  where sr.run_id = fail_lost_attempt.run_id and sr.step = fail_lost_attempt.step
    and sr.status = 'running' and sr.attempt = fail_lost_attempt.attempt;
  if not found then
    return '{"ok": false, "reason": "not_running"}'::jsonb;
  end if;
  select j.attempts into v_deliveries from graphile_worker._private_jobs as j
  where j.id = v_sr.job_id and j.locked_by = fail_lost_attempt.worker_id;
  if not found and not rowflow._trusted() then
    return '{"ok": false, "reason": "not_lease_holder"}'::jsonb;
  end if;
  return rowflow._fail_attempt(fail_lost_attempt.run_id, fail_lost_attempt.step, fail_lost_attempt.attempt,
    pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
      'kind', 'worker_lost', 'code', 'RF_WORKER_LOST', 'workerId', fail_lost_attempt.worker_id,
      'message', pg_catalog.format('the worker running attempt %s stopped before recording an outcome%s',
                                   fail_lost_attempt.attempt,
                                   case when v_deliveries is not null
                                        then pg_catalog.format(' (job delivered %s times)', v_deliveries) else '' end))),
    true, null, fail_lost_attempt.now);
end;
$$;
comment on function rowflow.fail_lost_attempt(bigint, text, int, text, timestamptz) is
  'A re-delivered job''s attempt was lost with its worker: records it as lost (worker_lost) and retries it without using up an attempt. For the worker holding the job''s lock.';
select rowflow._allow('function rowflow.fail_lost_attempt(bigint, text, int, text, timestamptz)', '{worker}');

-- from sql/schema/60_gate/fail_step.sql
create or replace function rowflow._fail_attempt(run_id bigint, step text, attempt int, error jsonb,
  retryable boolean, retry_at timestamptz, now timestamptz)
returns jsonb
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(_fail_attempt.now, pg_catalog.statement_timestamp());
  v_run rowflow.runs;
  v_sr rowflow.step_runs;
  v_ws rowflow.workflow_steps;
  v_delay interval;
  v_retry_at timestamptz;
  v_ids bigint[];
  v_status text;
  v_error jsonb;
  v_chain int := 0;
  v_lost boolean := coalesce(_fail_attempt.error ->> 'kind', '') = 'worker_lost';
  v_error_in jsonb := _fail_attempt.error;
  v_retryable boolean := coalesce(_fail_attempt.retryable, true);
  v_max_lost constant int := 3;
  v_max_any constant int := 10;
  v_suspect boolean;
  v_strikes int;
begin
  -- GUARD: lock order run → step; only the running attempt may fail.
  select r.* into v_run from rowflow.runs as r where r.id = _fail_attempt.run_id for no key update;
  select sr.* into v_sr from rowflow.step_runs as sr
  where sr.run_id = _fail_attempt.run_id and sr.step = _fail_attempt.step
    and sr.status = 'running' and sr.attempt = _fail_attempt.attempt
    and v_run.status in ('running', 'compensating');
  if not found then
    return (select f.refusal from rowflow._refusals(array[_fail_attempt.run_id], array[_fail_attempt.step],
                                                    array[_fail_attempt.attempt], array[1], array['running']) as f);
  end if;
  -- The retry policy: the step's own; a compensation uses the policy of the
  -- step it undoes; on-failure uses the defaults.
  select ws.* into v_ws from rowflow.workflow_steps as ws
  where ws.workflow = v_run.workflow and ws.version = v_run.version
    and ws.name = case v_sr.kind when 'step' then v_sr.step
                                 when 'compensation' then substr(v_sr.step, length('compensate:') + 1) end;

  -- A lost attempt is retried at once without using up an attempt. The
  -- step is quarantined as poison when it was the suspect of v_max_lost
  -- worker deaths: the attempt its worker started last (error.suspect, set
  -- by _end_leases; a re-delivered job's attempt, whose companions are not
  -- known, counts as suspect). A step that only shared a dying worker with
  -- a poison step, or lost its connection to a Postgres restart (the worker
  -- itself reports that: no workerId), is no suspect; any step is given up
  -- after v_max_any lost attempts.
  if v_lost then
    v_suspect := coalesce((_fail_attempt.error ->> 'suspect')::boolean, _fail_attempt.error ? 'workerId');
    v_strikes := (v_suspect)::int + (select count(*)::int from rowflow.events as e
      where e.run_id = v_sr.run_id and e.step = v_sr.step and e.type = 'step_retrying'
        and e.data -> 'error' ->> 'kind' = 'worker_lost'
        and coalesce((e.data -> 'error' ->> 'suspect')::boolean, e.data -> 'error' ? 'workerId'));
    v_error_in := v_error_in || pg_catalog.jsonb_build_object('suspect', v_suspect);
    if v_strikes >= v_max_lost or v_sr.lost_attempts + 1 >= v_max_any then
      v_retryable := false;
      v_error_in := v_error_in || pg_catalog.jsonb_build_object('code', 'RF_POISON', 'poison', true,
        'lostAttempts', v_sr.lost_attempts + 1,
        'message', case when v_strikes >= v_max_lost
          then pg_catalog.format('step %s killed its worker %s times (it was the attempt its worker started last when the worker died): quarantined, not retried; last: %s',
                                 v_sr.step, v_strikes, _fail_attempt.error ->> 'message')
          else pg_catalog.format('step %s lost its worker or its connection %s times: given up, not retried; last: %s',
                                 v_sr.step, v_sr.lost_attempts + 1, _fail_attempt.error ->> 'message') end);
    else
      update rowflow.step_runs as sr
      set max_attempts = sr.max_attempts + 1, lost_attempts = sr.lost_attempts + 1
      where sr.run_id = v_sr.run_id and sr.step = v_sr.step
      returning sr.* into v_sr;
      v_error_in := v_error_in || pg_catalog.jsonb_build_object('lostAttempts', v_sr.lost_attempts);
    end if;
  end if;

  -- PHASE 1: another attempt, if allowed (a new job).
  if v_retryable and v_sr.attempt < v_sr.max_attempts then
    v_delay := case when v_lost then interval '0' else case coalesce(v_ws.backoff_type, 'exponential')
      when 'fixed' then coalesce(v_ws.backoff_base, interval '1 second')
      else least(coalesce(v_ws.backoff_base, interval '1 second') * power(2, least(v_sr.attempt - 1, 40)),
                 coalesce(v_ws.backoff_max, interval '5 minutes'))
    end end;
    -- jitter j spreads the delay uniformly over [d·(1-j), d·(1+j)], capped at max.
    v_delay := least(v_delay * (1 - coalesce(v_ws.backoff_jitter, 0.2) * (2 * random() - 1)),
                     greatest(coalesce(v_ws.backoff_max, interval '5 minutes'), v_delay));
    v_retry_at := coalesce(_fail_attempt.retry_at, v_now + v_delay);
    v_ids := rowflow._add_step_jobs(array[row(v_sr.run_id, v_sr.step, v_sr.attempt + 1,
      rowflow._queue_name(v_ws.queue_name, v_ws.queue_key, jsonb_build_object('input', v_run.input,
        'steps', case when v_sr.kind = 'step' then rowflow._deps_outputs(v_sr.run_id, v_ws.depends_on) else '{}' end)),
      v_retry_at, coalesce(v_ws.priority, 0) + v_run.priority)::rowflow.step_job]);
    update rowflow.step_runs as sr
    set status = 'queued', attempt = sr.attempt + 1, error = v_error_in, job_id = v_ids[1], started_at = null,
        locked_by = null
    where sr.run_id = v_sr.run_id and sr.step = v_sr.step;
    insert into rowflow.events (run_id, step, type, attempt, data, at)
    values (v_sr.run_id, v_sr.step, 'step_retrying', v_sr.attempt,
            jsonb_build_object('error', v_error_in, 'retryAt', v_retry_at, 'nextAttempt', v_sr.attempt + 1,
                               'startedAt', v_sr.started_at), v_now);
    update rowflow.runs as r set updated_at = v_now where r.id = v_run.id;
    perform rowflow._notify(jsonb_build_object('run', v_run.id));
    return jsonb_build_object('ok', true, 'outcome', 'retrying', 'retryAt', v_retry_at,
                              'nextAttempt', v_sr.attempt + 1, 'runStatus', v_run.status);
  end if;

  -- PHASE 2: the step failed for good.
  update rowflow.step_runs as sr
  set status = 'failed', error = v_error_in, finished_at = v_now, locked_by = null
  where sr.run_id = v_sr.run_id and sr.step = v_sr.step;
  insert into rowflow.events (run_id, step, type, attempt, data, at)
  values (v_sr.run_id, v_sr.step, 'step_failed', v_sr.attempt,
          jsonb_build_object('error', v_error_in, 'retryable', v_retryable,
                             'startedAt', v_sr.started_at), v_now);
  v_status := v_run.status;
  v_error := v_run.error;

  if v_sr.kind = 'step' then
    -- PHASE 3: the run fails: cancel the other steps (those without a row
    -- too), then build the compensation chain (reverse completion order),
    -- on-failure last.
    perform rowflow._cancel_steps(v_run.id, array['step'], 'run failed', v_now);
    v_error := jsonb_build_object('step', v_sr.step, 'attempt', v_sr.attempt, 'error', v_error_in);
    v_chain := rowflow._build_chain(v_run, true, v_now);
    if v_chain > 0 then
      v_status := 'compensating';
      insert into rowflow.events (run_id, type, data, at)
      values (v_run.id, 'run_compensating', v_error, v_now);
    else
      v_status := 'failed';
      insert into rowflow.events (run_id, type, data, at)
      values (v_run.id, 'run_failed', v_error, v_now);
    end if;
    -- runs.status must be written before the chain helpers read it.
    update rowflow.runs as r set status = v_status, error = v_error, updated_at = v_now,
      finished_at = case when v_status = 'failed' then v_now end
    where r.id = v_run.id
    returning r.* into v_run;
  end if;

  -- PHASE 4: next link of the chain (first one, or the one after this failed
  -- compensation: the chain continues past a failed link), then finish.
  if v_status = 'compensating' then
    perform rowflow._advance_chain_step(v_run, v_now);
    select f.status into v_status from rowflow._finish_runs(array[v_run.id], v_now) as f;
  end if;
  perform rowflow._notify(jsonb_build_object('run', v_run.id));
  return jsonb_build_object('ok', true, 'outcome', 'failed', 'runStatus', v_status);
end;
$$;
select rowflow._allow('function rowflow._fail_attempt(bigint, text, int, jsonb, boolean, timestamptz, timestamptz)', '{}');

-- from sql/schema/65_jobs/_add_step_jobs.sql
create or replace function rowflow._add_step_jobs(jobs rowflow.step_job[], task text default 'rowflow:step')
returns bigint[]
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_task int;
  v_seq regclass;
  v_ids bigint[];
begin
  -- GUARD: nothing to add.
  if coalesce(cardinality(_add_step_jobs.jobs), 0) = 0 then
    return '{}';
  end if;
  -- PHASE 1: the task and the queues exist (writes only when missing).
  v_task := rowflow._task_id(_add_step_jobs.task);
  if exists (select 1 from unnest(_add_step_jobs.jobs) as j where j.queue is not null) then
    insert into graphile_worker._private_job_queues as q (queue_name)
    select distinct j.queue from unnest(_add_step_jobs.jobs) as j where j.queue is not null
    on conflict do nothing;
  end if;
  -- PHASE 2: ids, then the rows.
  v_seq := pg_catalog.pg_get_serial_sequence('graphile_worker._private_jobs', 'id')::regclass;
  v_ids := array(select pg_catalog.nextval(v_seq) from pg_catalog.generate_series(1, cardinality(_add_step_jobs.jobs)));
  insert into graphile_worker._private_jobs as jobs
    (id, job_queue_id, task_id, payload, run_at, max_attempts, priority)
  overriding system value
  select v_ids[j.o],
         case when j.queue is not null then
           (select q.id from graphile_worker._private_job_queues as q where q.queue_name = j.queue) end,
         v_task,
         pg_catalog.json_build_object('run', j.run_id, 'step', j.step, 'attempt', j.attempt),
         coalesce(j.run_at, pg_catalog.now()),
         25,
         greatest(-32768, least(32767, coalesce(j.priority, 0)))
  from unnest(_add_step_jobs.jobs) with ordinality as j(run_id, step, attempt, queue, run_at, priority, o)
  order by j.o;
  -- PHASE 3: wake a waiting worker (at most one NOTIFY per transaction).
  perform rowflow._wake('jobs:insert', '{"count":' || cardinality(_add_step_jobs.jobs) || '}');
  return v_ids;
end;
$$;
comment on function rowflow._add_step_jobs(rowflow.step_job[], text) is
  'Internal: inserts rowflow:step (or rowflow:wait) jobs without job keys (ids in spec order) and wakes a waiting worker.';
select rowflow._allow('function rowflow._add_step_jobs(rowflow.step_job[], text)', '{}');

-- from sql/schema/65_jobs/_step_task_id.sql
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
insert into graphile_worker._private_tasks (identifier) values ('rowflow:wait') on conflict do nothing;

-- from sql/schema/70_workers/_end_leases.sql
create or replace function rowflow._end_leases(worker_ids text[], keep text[], before timestamptz, now timestamptz,
  latest jsonb default null)
returns int
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_l record;
  v_n int := 0;
  v_ids bigint[];
  v_latest jsonb;
begin
  -- Each worker's latest attempt start (rowflow._latest_starts), given by
  -- a caller that also ends the workers' graphile-job attempts.
  v_latest := coalesce(_end_leases.latest, rowflow._latest_starts(_end_leases.worker_ids));
  for v_l in
    select sr.run_id, sr.step, sr.status, sr.attempt, sr.locked_by, sr.started_at
    from rowflow.step_runs as sr
    where sr.locked_by = any (_end_leases.worker_ids)
      and not (sr.run_id::text || ':' || sr.step) = any (coalesce(_end_leases.keep, '{}'))
      and coalesce(sr.started_at, sr.queued_at) < _end_leases.before
    order by sr.run_id, sr.step
  loop
    perform 1 from rowflow.runs as r where r.id = v_l.run_id for no key update;
    if v_l.status = 'running' then
      perform rowflow._fail_attempt(v_l.run_id, v_l.step, v_l.attempt,
        pg_catalog.jsonb_build_object('kind', 'worker_lost', 'code', 'RF_WORKER_LOST', 'workerId', v_l.locked_by,
          'suspect', coalesce(v_l.started_at >= (v_latest ->> v_l.locked_by)::timestamptz, false),
          'message', pg_catalog.format('the worker running attempt %s stopped before recording an outcome',
                                       v_l.attempt)),
        true, null, _end_leases.now);
    else
      v_ids := rowflow._add_step_jobs(array[row(v_l.run_id, v_l.step, v_l.attempt, null, _end_leases.now,
        (select greatest(-32768, least(32767, ws.priority + r.priority))
         from rowflow.runs as r
         join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = v_l.step
         where r.id = v_l.run_id))::rowflow.step_job]);
      update rowflow.step_runs as sr set locked_by = null, job_id = v_ids[1]
      where sr.run_id = v_l.run_id and sr.step = v_l.step and sr.status = 'queued'
        and sr.locked_by = v_l.locked_by;
    end if;
    v_n := v_n + 1;
  end loop;
  return v_n;
end;
$$;
select rowflow._allow('function rowflow._end_leases(text[], text[], timestamptz, timestamptz, jsonb)', '{}');

create or replace function rowflow._latest_starts(worker_ids text[])
returns jsonb
language sql stable
set search_path to ''
as $$
  select coalesce(pg_catalog.jsonb_object_agg(z.w, z.latest) filter (where z.n = 1), '{}')
  from (
    select y.w, y.started_at as latest, count(*) as n,
           pg_catalog.rank() over (partition by y.w order by y.started_at desc) as rk
    from (
      select sr.locked_by as w, sr.started_at from rowflow.step_runs as sr
      where sr.locked_by = any (_latest_starts.worker_ids) and sr.status = 'running'
      union all
      select j.locked_by, sr.started_at from graphile_worker._private_jobs as j
      join rowflow.step_runs as sr on sr.job_id = j.id and sr.status = 'running'
      where j.locked_by = any (_latest_starts.worker_ids)
    ) as y
    group by y.w, y.started_at
  ) as z
  where z.rk = 1;
$$;
select rowflow._allow('function rowflow._latest_starts(text[])', '{}');

-- from sql/schema/70_workers/disconnected_workers.sql
create or replace function rowflow.disconnected_workers()
returns text[]
language plpgsql
security definer
set search_path to ''
as $$
begin
  perform rowflow._require('{worker,operator}');
  return coalesce((select array_agg(w.id order by w.id) from rowflow.workers as w
                   where w.lock_key is not null and pg_catalog.pg_try_advisory_xact_lock(1380349803, w.lock_key)),
                  '{}');
end;
$$;
comment on function rowflow.disconnected_workers() is
  'Ids of registered workers whose session advisory lock is free (their lock connection closed): dead, to be released by release_dead_workers. Changes nothing.';
select rowflow._allow('function rowflow.disconnected_workers()', '{worker,operator}');

-- from sql/schema/70_workers/hold_worker_lock.sql
create or replace function rowflow.hold_worker_lock(id text, token text default null)
returns boolean
language plpgsql
security definer
set search_path to ''
as $$
declare
  v_key int := pg_catalog.hashtext(hold_worker_lock.id);
begin
  perform rowflow._require('{worker}');
  perform rowflow._check_worker(hold_worker_lock.id, hold_worker_lock.token);
  if not exists (select 1 from rowflow.workers as w where w.id = hold_worker_lock.id) then
    return false;
  end if;
  if not exists (select 1 from pg_catalog.pg_locks as l
                 where l.locktype = 'advisory' and l.pid = pg_catalog.pg_backend_pid() and l.granted
                   and l.classid = 1380349803::oid and l.objid = v_key::oid and l.objsubid = 2)
     and not pg_catalog.pg_try_advisory_lock(1380349803, v_key) then
    return false;
  end if;
  update rowflow.workers as w set lock_key = v_key
  where w.id = hold_worker_lock.id and w.lock_key is distinct from v_key;
  return true;
end;
$$;
comment on function rowflow.hold_worker_lock(text, text) is
  'Takes the worker''s session advisory lock on the calling connection and records it: the worker counts as dead as soon as that connection closes. Needs the worker''s token; false when the worker has no row or the key is held elsewhere.';
select rowflow._allow('function rowflow.hold_worker_lock(text, text)', '{worker}');

-- from sql/schema/70_workers/release_dead_workers.sql
create or replace function rowflow.release_dead_workers(timeout interval, now timestamptz default null)
returns text[]
language plpgsql
security definer
set search_path to ''
as $$
declare
  v_now timestamptz := coalesce(release_dead_workers.now, now());
  v_ids text[];
  v_orphans text[];
  v_latest jsonb;
  v_j record;
begin
  -- GUARD: a worker or an operator; a zero or negative timeout would
  -- release the jobs of live workers. (Any worker may call it: it only
  -- releases workers that stopped heartbeating.)
  perform rowflow._require('{worker,operator}');
  if release_dead_workers.timeout is null or release_dead_workers.timeout <= interval '0' then
    raise exception 'release_dead_workers: timeout must be a positive interval, got %',
      coalesce(release_dead_workers.timeout::text, 'null') using errcode = '22023';
  end if;

  -- PHASE 1: registered workers that stopped heartbeating, or whose lock is free.
  with dead as (
    delete from rowflow.workers as w
    where w.heartbeat_at < v_now - release_dead_workers.timeout
       or (w.lock_key is not null and pg_catalog.pg_try_advisory_xact_lock(1380349803, w.lock_key))
    returning w.id
  )
  select coalesce(array_agg(dead.id order by dead.id), '{}') into v_ids from dead;

  -- PHASE 2: holders of rowflow jobs or leases that never registered (or
  -- lost their row), with locks older than the timeout.
  select coalesce(array_agg(distinct x.holder), '{}') into v_orphans
  from (
    select j.locked_by as holder
    from graphile_worker._private_jobs as j
    join graphile_worker._private_tasks as t on t.id = j.task_id and t.identifier = 'rowflow:step'
    where j.locked_by is not null and j.locked_at < v_now - release_dead_workers.timeout
    union all
    select sr.locked_by
    from rowflow.step_runs as sr
    where sr.locked_by is not null and coalesce(sr.started_at, sr.queued_at) < v_now - release_dead_workers.timeout
  ) as x
  where not exists (select 1 from rowflow.workers as w where w.id = x.holder);

  v_ids := array(select distinct x from unnest(v_ids || v_orphans) as x order by x);
  if cardinality(v_ids) > 0 then
    -- PHASE 3: their attempts are lost: the leased ones and, here, those of
    -- the graphile jobs they had locked (retried at once instead of on the
    -- job's re-delivery, and only the attempt each worker started last is
    -- a poison suspect: rowflow._fail_attempt). The jobs are unlocked; a
    -- re-delivered one then finds its attempt ended and changes nothing.
    v_latest := rowflow._latest_starts(v_ids);
    for v_j in
      select sr.run_id, sr.step, sr.attempt, j.locked_by, sr.started_at
      from graphile_worker._private_jobs as j
      join rowflow.step_runs as sr on sr.job_id = j.id and sr.status = 'running' and sr.locked_by is null
      where j.locked_by = any (v_ids)
      order by sr.run_id, sr.step
    loop
      perform 1 from rowflow.runs as r where r.id = v_j.run_id for no key update;
      perform rowflow._fail_attempt(v_j.run_id, v_j.step, v_j.attempt,
        pg_catalog.jsonb_build_object('kind', 'worker_lost', 'code', 'RF_WORKER_LOST', 'workerId', v_j.locked_by,
          'suspect', coalesce(v_j.started_at >= (v_latest ->> v_j.locked_by)::timestamptz, false),
          'message', pg_catalog.format('the worker running attempt %s stopped before recording an outcome',
                                       v_j.attempt)),
        true, null, v_now);
    end loop;
    perform rowflow._end_leases(v_ids, null, 'infinity', v_now, v_latest);
    perform graphile_worker.force_unlock_workers(v_ids);
  end if;
  return v_ids;
end;
$$;
comment on function rowflow.release_dead_workers(interval, timestamptz) is
  'Deletes workers silent for longer than timeout and unlocks their graphile-worker jobs (and those of unregistered lockers); returns their ids.';
select rowflow._allow('function rowflow.release_dead_workers(interval, timestamptz)', '{worker,operator}');

-- from sql/schema/78_waits/_check_row_wait.sql
create or replace function rowflow._check_row_wait(run_id bigint, step text, now timestamptz,
  matched jsonb default null)
returns boolean
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_run rowflow.runs;
  v_ws rowflow.workflow_steps;
  v_row jsonb;
begin
  select r.* into v_run from rowflow.runs as r where r.id = _check_row_wait.run_id for no key update;
  if v_run.status is distinct from 'running'
     or not exists (select 1 from rowflow.step_waits as w join rowflow.step_runs as sr
                      on sr.run_id = w.run_id and sr.step = w.step and sr.status = 'queued'
                    where w.run_id = _check_row_wait.run_id and w.step = _check_row_wait.step and w.kind = 'row') then
    return false;
  end if;
  select ws.* into v_ws from rowflow.workflow_steps as ws
  where ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = _check_row_wait.step;
  v_row := coalesce(_check_row_wait.matched,
                    rowflow._row_match(v_ws.wait, pg_catalog.jsonb_build_object('input', v_run.input,
                                         'steps', rowflow._deps_outputs(v_run.id, v_ws.depends_on))));
  if v_row is null then
    return false;
  end if;
  perform rowflow._settle_step(v_run.id, _check_row_wait.step, 'succeeded', v_row, _check_row_wait.now, 'row_matched',
                               pg_catalog.jsonb_build_object('table', v_ws.wait ->> 'table'));
  return true;
end;
$$;
comment on function rowflow._check_row_wait(bigint, text, timestamptz, jsonb) is
  'Internal: a waiting waitFor step''s condition; a matching row settles the step with the row as its output.';
select rowflow._allow('function rowflow._check_row_wait(bigint, text, timestamptz, jsonb)', '{}');

create or replace function rowflow._row_match(wait jsonb, ctx jsonb)
returns jsonb
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_row jsonb;
begin
  execute pg_catalog.format('select m."row" from %s($1) as m', (_row_match.wait ->> 'check')::regprocedure::regproc)
  into v_row using array[_row_match.ctx];
  return v_row;
end;
$$;
select rowflow._allow('function rowflow._row_match(jsonb, jsonb)', '{}');

create or replace function rowflow._arm_row(run_id bigint, step text, attempt int, wait jsonb, ctx jsonb,
  now timestamptz)
returns jsonb
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_row jsonb;
begin
  begin
    v_row := rowflow._row_match(_arm_row.wait, _arm_row.ctx);
  exception when others then
    return rowflow._fail_wait(_arm_row.run_id, _arm_row.step, _arm_row.attempt, pg_catalog.jsonb_build_object(
      'message', pg_catalog.format('the waitFor condition on %s failed for this run: %s', _arm_row.wait ->> 'table',
                                   sqlerrm),
      'code', 'wait_condition_failed', 'sqlstate', sqlstate), _arm_row.now);
  end;
  if v_row is null then
    return null;
  end if;
  return pg_catalog.jsonb_build_object('ok', true, 'outcome', 'succeeded')
    || rowflow._settle_step(_arm_row.run_id, _arm_row.step, 'succeeded', v_row, _arm_row.now, 'row_matched',
                            pg_catalog.jsonb_build_object('table', _arm_row.wait ->> 'table'));
end;
$$;
select rowflow._allow('function rowflow._arm_row(bigint, text, int, jsonb, jsonb, timestamptz)', '{}');

-- from sql/schema/78_waits/_fail_wait.sql
create or replace function rowflow._fail_wait(run_id bigint, step text, attempt int, error jsonb, now timestamptz)
returns jsonb
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
begin
  delete from rowflow.step_waits as w where w.run_id = _fail_wait.run_id and w.step = _fail_wait.step;
  update rowflow.step_runs as sr set status = 'running', started_at = coalesce(sr.started_at, _fail_wait.now),
    job_id = null
  where sr.run_id = _fail_wait.run_id and sr.step = _fail_wait.step;
  if _fail_wait.error ->> 'code' = 'timeout' then
    insert into rowflow.events (run_id, step, type, attempt, data, at)
    values (_fail_wait.run_id, _fail_wait.step, 'step_timed_out', _fail_wait.attempt,
            pg_catalog.jsonb_build_object('onTimeout', 'fail', 'error', _fail_wait.error), _fail_wait.now);
  end if;
  return rowflow._fail_attempt(_fail_wait.run_id, _fail_wait.step, _fail_wait.attempt, _fail_wait.error, false, null,
                               _fail_wait.now);
end;
$$;
select rowflow._allow('function rowflow._fail_wait(bigint, text, int, jsonb, timestamptz)', '{}');

-- from sql/schema/78_waits/_lock_task.sql
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

-- from sql/schema/78_waits/_row_wait_fired.sql
create or replace function rowflow._row_wait_fired()
returns trigger
language plpgsql
security definer
set search_path to ''
as $$
declare
  v_g record;
  v_m record;
begin
  if not exists (select 1 from rowflow.step_waits as w where w.relid = tg_relid) then
    return null;
  end if;
  -- PHASE 1: per condition (check function), the waiting runs' contexts,
  -- matched in one call; nothing locked yet.
  for v_g in
    select ws.wait ->> 'check' as fn,
           array_agg(w.run_id order by w.run_id, w.step) as runs,
           array_agg(w.step order by w.run_id, w.step) as steps,
           array_agg(pg_catalog.jsonb_build_object('input', r.input,
                       'steps', rowflow._deps_outputs(r.id, ws.depends_on)) order by w.run_id, w.step) as ctxs
    from rowflow.step_waits as w
    join rowflow.runs as r on r.id = w.run_id and r.status = 'running'
    join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = w.step
    where w.relid = tg_relid
    group by ws.wait ->> 'check'
  loop
    begin
      for v_m in execute pg_catalog.format('select m.o, m."row" from %s($1) as m order by m.o',
                                           v_g.fn::regprocedure::regproc) using v_g.ctxs
      loop
        -- PHASE 2: each match settles under its run's lock, if it still waits.
        perform rowflow._check_row_wait(v_g.runs[v_m.o], v_g.steps[v_m.o], pg_catalog.statement_timestamp(),
                                        v_m."row");
      end loop;
    exception when others then
      -- One run's values do not fit the condition (a cast): check them one
      -- by one, so that the others still complete.
      for i in 1 .. cardinality(v_g.runs) loop
        begin
          perform rowflow._check_row_wait(v_g.runs[i], v_g.steps[i], pg_catalog.statement_timestamp());
        exception when others then
          raise warning 'rowflow: the waitFor condition of run % step % failed (%); it keeps waiting', v_g.runs[i],
            v_g.steps[i], sqlerrm;
        end;
      end loop;
    end;
  end loop;
  return null;
end;
$$;
comment on function rowflow._row_wait_fired() is
  'Trigger rowflow_wait_for of tables waitFor steps wait on: re-checks the steps waiting on the table (never fails the write).';
select rowflow._allow('function rowflow._row_wait_fired()', '{}');

-- from sql/schema/78_waits/_settle_step.sql
create or replace function rowflow._settle_step(run_id bigint, step text, status text, output jsonb, now timestamptz,
  event text, data jsonb)
returns jsonb
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_job bigint;
  v_released text[];
  v_run_status text;
begin
  -- PHASE 1: the step, its job, its wait, its open task.
  update rowflow.step_runs as sr
  set status = _settle_step.status, output = _settle_step.output, deps_remaining = 0, finished_at = _settle_step.now,
      job_id = null, locked_by = null,
      started_at = case when _settle_step.status = 'succeeded' then coalesce(sr.started_at, _settle_step.now) end
  from (select s.job_id from rowflow.step_runs as s
        where s.run_id = _settle_step.run_id and s.step = _settle_step.step) as old
  where sr.run_id = _settle_step.run_id and sr.step = _settle_step.step
  returning old.job_id into v_job;
  if v_job is not null then
    delete from graphile_worker._private_jobs as j where j.id = v_job;
  end if;
  delete from rowflow.step_waits as w where w.run_id = _settle_step.run_id and w.step = _settle_step.step;
  update rowflow.human_tasks as t set status = 'cancelled'
  where t.run_id = _settle_step.run_id and t.step = _settle_step.step and t.status in ('open', 'claimed');
  insert into rowflow.events (run_id, step, type, data, at)
  values (_settle_step.run_id, _settle_step.step, _settle_step.event, _settle_step.data, _settle_step.now);

  -- PHASE 2: release its dependents; finish the run if nothing is left.
  select coalesce(array_agg(x.step order by x.step) filter (where x.status <> 'pending'), '{}') into v_released
  from rowflow._release(array[row(_settle_step.run_id, _settle_step.step, 1)::rowflow.done_step], null, null,
                        _settle_step.now, null) as x;
  update rowflow.runs as r set updated_at = _settle_step.now where r.id = _settle_step.run_id;
  select f.status into v_run_status from rowflow._finish_runs(array[_settle_step.run_id], _settle_step.now) as f;
  perform rowflow._notify(pg_catalog.jsonb_build_object('run', _settle_step.run_id));
  return pg_catalog.jsonb_build_object('released', pg_catalog.to_jsonb(v_released),
                                       'runStatus', coalesce(v_run_status, 'running'));
end;
$$;
comment on function rowflow._settle_step(bigint, text, text, jsonb, timestamptz, text, jsonb) is
  'Internal: ends a pending or queued step without a handler (succeeded with output, or skipped), releases its dependents, finishes the run.';
select rowflow._allow('function rowflow._settle_step(bigint, text, text, jsonb, timestamptz, text, jsonb)', '{}');

-- from sql/schema/78_waits/_start_time.sql
create or replace function rowflow._start_time(wait jsonb, ctx jsonb)
returns timestamptz
language plpgsql stable
set search_path to ''
set timezone to 'UTC'
as $$
#variable_conflict use_column
declare
  v_val jsonb;
begin
  if _start_time.wait ->> 'startAt' is null then
    return null;
  end if;
  v_val := jsonb_path_query_first(_start_time.ctx, (_start_time.wait ->> 'startAt')::jsonpath, '{}', true);
  begin
    return case jsonb_typeof(v_val)
      when 'string' then (v_val #>> '{}')::timestamptz
      when 'number' then pg_catalog.to_timestamp((v_val #>> '{}')::double precision / 1000)
    end + coalesce((_start_time.wait ->> 'offset')::interval, interval '0');
  exception when others then
    return null;
  end;
end;
$$;
comment on function rowflow._start_time(jsonb, jsonb) is
  'Internal: the time a step with startAt may start (its path over {input, steps}, plus offset), or null when the path gives no time.';
select rowflow._allow('function rowflow._start_time(jsonb, jsonb)', '{}');

-- from sql/schema/78_waits/_wait_deadline.sql
create or replace function rowflow._wait_deadline(run rowflow.runs, ws rowflow.workflow_steps, sr rowflow.step_runs,
  until timestamptz)
returns void
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_job bigint;
begin
  if _wait_deadline.until is not null then
    v_job := (rowflow._add_step_jobs(array[row((_wait_deadline.run).id, (_wait_deadline.sr).step,
                (_wait_deadline.sr).attempt, null, _wait_deadline.until,
                (_wait_deadline.ws).priority + (_wait_deadline.run).priority)::rowflow.step_job], 'rowflow:wait'))[1];
  end if;
  update rowflow.step_runs as s set job_id = v_job
  where s.run_id = (_wait_deadline.run).id and s.step = (_wait_deadline.sr).step;
end;
$$;
select rowflow._allow('function rowflow._wait_deadline(rowflow.runs, rowflow.workflow_steps, rowflow.step_runs, timestamptz)', '{}');

-- from sql/schema/78_waits/arm_step.sql
create or replace function rowflow.arm_step(run_id bigint, step text, attempt int, worker_id text default null,
  now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(arm_step.now, pg_catalog.statement_timestamp());
  v_run rowflow.runs;
  v_sr rowflow.step_runs;
  v_ws rowflow.workflow_steps;
  v_sw rowflow.step_waits;
  v_wait jsonb;
  v_ctx jsonb;
  v_at timestamptz;
  v_until timestamptz;
  v_signal rowflow.signals;
  v_assignee text;
  v_task bigint;
  v_job bigint;
  v_on jsonb;
  v_answer jsonb;
  v_xids xid[];
begin
  -- GUARD: a worker; lock order run → step; the step is queued with this
  -- attempt, and (untrusted) its job is locked by worker_id.
  perform rowflow._require('{worker}');
  if arm_step.worker_id is null and not rowflow._trusted() then
    raise exception 'arm_step: worker_id is required: the worker whose graphile-worker pool holds the job'
      using errcode = '22023';
  end if;
  select r.* into v_run from rowflow.runs as r where r.id = arm_step.run_id for no key update;
  select sr.* into v_sr from rowflow.step_runs as sr
  where sr.run_id = arm_step.run_id and sr.step = arm_step.step and sr.kind = 'step' for update;
  if not found or v_run.status is distinct from 'running' or v_sr.status <> 'queued' or v_sr.attempt <> arm_step.attempt
     or (not rowflow._trusted()
         and not exists (select 1 from graphile_worker._private_jobs as j
                         where j.id = v_sr.job_id and j.locked_by = arm_step.worker_id)) then
    return (select f.refusal from rowflow._refusals(array[arm_step.run_id], array[arm_step.step], array[arm_step.attempt],
                                                    array[1], array['queued'],
                                                    case when not rowflow._trusted() then arm_step.worker_id end) as f);
  end if;
  select ws.* into v_ws from rowflow.workflow_steps as ws
  where ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = arm_step.step;
  v_wait := v_ws.wait;
  v_ctx := pg_catalog.jsonb_build_object('input', v_run.input,
                                         'steps', rowflow._deps_outputs(v_run.id, v_ws.depends_on));
  select w.* into v_sw from rowflow.step_waits as w where w.run_id = v_run.id and w.step = arm_step.step;

  if v_sw.run_id is null then
    -- PHASE 1: startAt still ahead → sleep until then.
    v_at := rowflow._start_time(v_wait, v_ctx);
    if v_at > v_now then
      v_job := (rowflow._add_step_jobs(array[row(v_run.id, v_sr.step, v_sr.attempt,
                  rowflow._queue_name(v_ws.queue_name, v_ws.queue_key, v_ctx), v_at, v_ws.priority + v_run.priority
                )::rowflow.step_job], case when v_wait ->> 'kind' = 'time' then 'rowflow:step' else 'rowflow:wait' end))[1];
      update rowflow.step_runs as sr set job_id = v_job where sr.run_id = v_run.id and sr.step = v_sr.step;
      insert into rowflow.events (run_id, step, type, attempt, data, at)
      values (v_run.id, v_sr.step, 'step_sleeping', v_sr.attempt, pg_catalog.jsonb_build_object('until', v_at), v_now);
      return pg_catalog.jsonb_build_object('ok', true, 'outcome', 'sleeping', 'until', v_at);
    end if;
    if v_wait ? 'startAt' and v_at is null then
      -- Nothing usable at the path: the step does not wait; say so.
      insert into rowflow.events (run_id, step, type, attempt, data, at)
      values (v_run.id, v_sr.step, 'step_sleeping', v_sr.attempt,
              pg_catalog.jsonb_build_object('until', null, 'note',
                pg_catalog.format('startAt %s gave no time; starting now', v_wait ->> 'startAt')), v_now);
    end if;

    -- PHASE 2: a handler step runs now, as any step.
    if v_wait ->> 'kind' = 'time' then
      v_job := (rowflow._add_step_jobs(array[row(v_run.id, v_sr.step, v_sr.attempt,
                  rowflow._queue_name(v_ws.queue_name, v_ws.queue_key, v_ctx), v_now, v_ws.priority + v_run.priority
                )::rowflow.step_job]))[1];
      update rowflow.step_runs as sr set job_id = v_job where sr.run_id = v_run.id and sr.step = v_sr.step;
      return '{"ok": true, "outcome": "queued"}'::jsonb;
    end if;

    -- PHASE 3: what it waits for may be there already.
    if v_wait ->> 'kind' = 'signal' then
      update rowflow.signals as s set consumed_at = v_now, step = v_sr.step
      where s.id = (select s2.id from rowflow.signals as s2
                    where s2.run_id = v_run.id and s2.name = v_wait ->> 'signal' and s2.consumed_at is null
                    order by s2.id limit 1)
      returning s.* into v_signal;
      if found then
        v_answer := rowflow._settle_step(v_run.id, v_sr.step, 'succeeded', v_signal.payload, v_now, 'signal_received',
          pg_catalog.jsonb_build_object('signal', v_signal.name, 'signalId', v_signal.id, 'by', v_signal.sent_by,
                                        'sentAt', v_signal.sent_at));
        return pg_catalog.jsonb_build_object('ok', true, 'outcome', 'succeeded', 'signal', v_signal.id) || v_answer;
      end if;
    end if;

    if v_wait ->> 'kind' = 'row' then
      v_answer := rowflow._arm_row(v_run.id, v_sr.step, v_sr.attempt, v_wait, v_ctx, v_now);
      if v_answer is not null then
        return v_answer;
      end if;
    end if;

    -- PHASE 4: wait, until the deadline if there is one.
    v_until := v_now + (v_wait ->> 'timeout')::interval;
    if v_wait ->> 'kind' = 'human' then
      v_assignee := coalesce(v_wait ->> 'assignee',
        jsonb_path_query_first(v_ctx, (v_wait ->> 'assigneePath')::jsonpath, '{}', true) #>> '{}');
      if coalesce(length(v_assignee), 0) not between 1 and 200 then
        return rowflow._fail_wait(v_run.id, v_sr.step, v_sr.attempt, pg_catalog.jsonb_build_object(
          'message', pg_catalog.format('human.assignee %s gave no person or group (1-200 characters)',
                                       v_wait ->> 'assigneePath'), 'code', 'no_assignee'), v_now);
      end if;
      insert into rowflow.human_tasks (run_id, step, workflow, title, description, assignee, form, due_at, escalate_to,
                                       created_at)
      values (v_run.id, v_sr.step, v_run.workflow, v_wait ->> 'title', v_wait ->> 'description', v_assignee,
              coalesce(v_wait -> 'form', '{}'), v_until, v_wait ->> 'escalateTo', v_now)
      returning id into v_task;
      insert into rowflow.events (run_id, step, type, attempt, data, at)
      values (v_run.id, v_sr.step, 'task_created', v_sr.attempt,
              pg_catalog.jsonb_build_object('task', v_task, 'assignee', v_assignee, 'due', v_until), v_now);
    end if;
    insert into rowflow.step_waits (run_id, step, kind, signal, task_id, relid, since, until, confirmed)
    values (v_run.id, v_sr.step, v_wait ->> 'kind', v_wait ->> 'signal', v_task, (v_wait ->> 'relid')::oid, v_now,
            v_until, v_wait ->> 'kind' <> 'row');
    -- A row wait is confirmed by the next rowflow:wait job (PHASE 5), once
    -- this transaction committed; its deadline job comes after.
    perform rowflow._wait_deadline(v_run, v_ws, v_sr, case when v_wait ->> 'kind' = 'row' then v_now else v_until end);
    insert into rowflow.events (run_id, step, type, attempt, data, at)
    values (v_run.id, v_sr.step, 'step_waiting', v_sr.attempt,
            pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('for', v_wait ->> 'kind',
              'signal', v_wait ->> 'signal', 'task', v_task, 'until', v_until)), v_now);
    perform rowflow._notify(pg_catalog.jsonb_build_object('run', v_run.id));
    return pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('ok', true, 'outcome', 'waiting', 'task', v_task,
                                                                      'until', v_until));
  end if;

  -- PHASE 5: a row wait is confirmed once every transaction that was
  -- writing its table when the wait committed has ended (step_waits.xids:
  -- the first such job runs after the commit; a writer holds its
  -- RowExclusiveLock on the table until it ends, so pg_locks lists them
  -- all): a writer whose trigger ran before the wait was visible may have
  -- committed a matching row since, so the condition is checked again each
  -- time, every 100 ms at first, backing off to 10 s for a long writer.
  if not v_sw.confirmed then
    v_xids := case when v_sw.xids is null
      then array(select distinct x.transactionid from pg_catalog.pg_locks as l
                 join pg_catalog.pg_locks as x on x.pid = l.pid and x.locktype = 'transactionid' and x.granted
                 where l.locktype = 'relation' and l.relation = v_sw.relid and l.mode = 'RowExclusiveLock'
                   and l.granted and l.pid <> pg_catalog.pg_backend_pid())
      else array(select x from unnest(v_sw.xids) as x
                 where exists (select 1 from pg_catalog.pg_locks as l
                               where l.locktype = 'transactionid' and l.transactionid = x)) end;
    v_answer := rowflow._arm_row(v_run.id, v_sr.step, v_sr.attempt, v_wait, v_ctx, v_now);
    if v_answer is not null then
      return v_answer;
    end if;
    update rowflow.step_waits as w set confirmed = cardinality(v_xids) = 0, xids = nullif(v_xids, '{}')
    where w.run_id = v_run.id and w.step = v_sr.step;
    perform rowflow._wait_deadline(v_run, v_ws, v_sr,
                                   case when cardinality(v_xids) = 0 then v_sw.until
                                        else v_now + least(interval '10 s', greatest(interval '100 ms',
                                                                                     (v_now - v_sw.since) / 10)) end);
    return pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('ok', true, 'outcome', 'waiting',
      'confirmed', cardinality(v_xids) = 0, 'until', v_sw.until));
  end if;

  -- PHASE 6: the deadline job. Early (a stale job) changes nothing.
  if v_sw.until is null or v_sw.until > v_now then
    return pg_catalog.jsonb_build_object('ok', false, 'reason', 'not_due', 'until', v_sw.until);
  end if;
  if v_sw.kind = 'human' and v_wait ->> 'escalateTo' is not null
     and (select t.escalated_at is null from rowflow.human_tasks as t where t.id = v_sw.task_id) then
    v_until := v_now + (v_wait ->> 'timeout')::interval;
    update rowflow.human_tasks as t
    set assignee = t.escalate_to, status = 'open', claimed_by = null, claimed_at = null, escalated_at = v_now,
        due_at = v_until
    where t.id = v_sw.task_id
    returning t.assignee into v_assignee;
    update rowflow.step_waits as w set until = v_until where w.run_id = v_run.id and w.step = v_sr.step;
    perform rowflow._wait_deadline(v_run, v_ws, v_sr, v_until);
    insert into rowflow.events (run_id, step, type, attempt, data, at)
    values (v_run.id, v_sr.step, 'task_escalated', v_sr.attempt,
            pg_catalog.jsonb_build_object('task', v_sw.task_id, 'to', v_assignee, 'due', v_until), v_now);
    perform rowflow._notify(pg_catalog.jsonb_build_object('run', v_run.id));
    return pg_catalog.jsonb_build_object('ok', true, 'outcome', 'escalated', 'task', v_sw.task_id, 'to', v_assignee,
                                         'until', v_until);
  end if;
  update rowflow.human_tasks as t set status = 'expired' where t.id = v_sw.task_id and t.status in ('open', 'claimed');
  v_on := coalesce(v_wait -> 'onTimeout', '"fail"');
  if v_on = '"fail"' then
    return rowflow._fail_wait(v_run.id, v_sr.step, v_sr.attempt, pg_catalog.jsonb_build_object(
      'message', pg_catalog.format('timed out waiting for %s after %s',
                                   case v_sw.kind when 'signal' then 'signal ' || v_sw.signal
                                                  when 'human' then 'task ' || v_sw.task_id
                                                  else 'a row of ' || (v_wait ->> 'table') end,
                                   v_wait ->> 'timeout'),
      'code', 'timeout', 'waitedSince', v_sw.since), v_now);
  end if;
  v_answer := rowflow._settle_step(v_run.id, v_sr.step, case when v_on = '"skip"' then 'skipped' else 'succeeded' end,
                                   v_on -> 'output', v_now, 'step_timed_out',
                                   pg_catalog.jsonb_build_object('onTimeout', v_on, 'waitedSince', v_sw.since));
  return pg_catalog.jsonb_build_object('ok', true, 'outcome', 'timed_out') || v_answer;
end;
$$;
comment on function rowflow.arm_step(bigint, text, int, text, timestamptz) is
  'The rowflow:wait job: sleeps a step until its startAt, starts its wait (signal, human task) or applies its deadline (escalate, onTimeout).';
select rowflow._allow('function rowflow.arm_step(bigint, text, int, text, timestamptz)', '{worker}');

-- from sql/schema/78_waits/complete_task.sql
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

-- from sql/schema/78_waits/signal.sql
create or replace function rowflow.signal(run_id bigint, name text, payload jsonb default null,
  now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(signal.now, pg_catalog.statement_timestamp());
  v_limit int := coalesce(nullif(pg_catalog.current_setting('rowflow.max_output_bytes', true), '')::int, 1048576);
  v_run rowflow.runs;
  v_step text;
  v_id bigint;
  v_waiting text[];
  v_answer jsonb;
begin
  -- GUARD: apps, workers and operators; a valid name; a payload in bounds.
  perform rowflow._require('{app,worker,operator}');
  if signal.name is null or signal.name !~ '^[A-Za-z0-9_.:-]{1,128}$' then
    raise exception 'signal: invalid signal name %: use 1-128 characters A-Z, a-z, 0-9, "_", ".", ":" or "-"',
      coalesce(pg_catalog.quote_literal(left(signal.name, 140)), 'null') using errcode = 'RF060';
  end if;
  if pg_catalog.octet_length(signal.payload::text) > v_limit then
    raise exception 'signal: payload of % bytes is over the limit of % bytes (rowflow.max_output_bytes)',
      pg_catalog.octet_length(signal.payload::text), v_limit using errcode = 'RF061';
  end if;
  select r.* into v_run from rowflow.runs as r where r.id = signal.run_id for no key update;
  if not found then
    return pg_catalog.jsonb_build_object('ok', false, 'status', 'unknown_run', 'run', signal.run_id);
  end if;

  -- PHASE 1: store it, with who sent it.
  insert into rowflow.signals (run_id, name, payload, sent_at, sent_by)
  values (v_run.id, signal.name, signal.payload, v_now, session_user)
  returning id into v_id;
  if v_run.status in ('succeeded', 'failed', 'cancelled') then
    return pg_catalog.jsonb_build_object('ok', false, 'status', 'run_finished', 'run', v_run.id, 'signal', v_id,
                                         'runStatus', v_run.status);
  end if;

  -- PHASE 2: a step waiting for it now takes it (the earliest-armed one).
  select w.step into v_step from rowflow.step_waits as w
  where w.run_id = v_run.id and w.kind = 'signal' and w.signal = signal.name
  order by w.since, w.step limit 1;
  if found and v_run.status = 'running' then
    update rowflow.signals as s set consumed_at = v_now, step = v_step where s.id = v_id;
    v_answer := rowflow._settle_step(v_run.id, v_step, 'succeeded', signal.payload, v_now, 'signal_received',
      pg_catalog.jsonb_build_object('signal', signal.name, 'signalId', v_id, 'by', session_user, 'sentAt', v_now));
    return pg_catalog.jsonb_build_object('ok', true, 'status', 'delivered', 'run', v_run.id, 'signal', v_id,
                                         'step', v_step) || v_answer;
  end if;

  -- PHASE 3: kept for a step that will wait for it, or for nobody.
  select coalesce(array_agg(ws.name order by ws.name), '{}') into v_waiting
  from rowflow.workflow_steps as ws
  left join rowflow.step_runs as sr on sr.run_id = v_run.id and sr.step = ws.name
  where ws.workflow = v_run.workflow and ws.version = v_run.version
    and ws.wait ->> 'kind' = 'signal' and ws.wait ->> 'signal' = signal.name
    and (sr.step is null or sr.status in ('pending', 'queued'));
  if cardinality(v_waiting) > 0 and v_run.status in ('queued', 'running') then
    return pg_catalog.jsonb_build_object('ok', true, 'status', 'kept', 'run', v_run.id, 'signal', v_id,
                                         'waitedBy', pg_catalog.to_jsonb(v_waiting));
  end if;
  return pg_catalog.jsonb_build_object('ok', false, 'status', 'unexpected', 'run', v_run.id, 'signal', v_id,
    'message', pg_catalog.format('no unfinished step of run %s (workflow %s, version %s) waits for signal %s; it is kept, unconsumed',
                                 v_run.id, v_run.workflow, v_run.version, signal.name));
end;
$$;
comment on function rowflow.signal(bigint, text, jsonb, timestamptz) is
  'Sends a named signal to a run: the step waiting for it succeeds with the payload, or it is kept until one waits. Answers delivered / kept / unexpected / run_finished / unknown_run.';
select rowflow._allow('function rowflow.signal(bigint, text, jsonb, timestamptz)', '{app,worker,operator}');

-- from sql/schema/85_operate/_requeue_steps.sql
create or replace function rowflow._requeue_steps(run_id bigint, steps text[], now timestamptz)
returns text[]
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_run rowflow.runs;
  v_done rowflow.done_step[];
  v_roots text[];
  v_jobs rowflow.step_job[];
  v_ids bigint[];
  v_released text[];
  v_plain int;
begin
  select r.* into v_run from rowflow.runs as r where r.id = _requeue_steps.run_id;
  -- PHASE 1: roots get a job now.
  -- Waiting steps get a rowflow:wait job (rowflow.arm_step), the others a
  -- rowflow:step job: the roots are ordered waits last, so one call each.
  select coalesce(array_agg(ws.name order by ws.wait is not null, ws.name), '{}'),
         coalesce(array_agg(row(v_run.id, ws.name, 1,
           rowflow._queue_name(ws.queue_name, ws.queue_key,
                               pg_catalog.jsonb_build_object('input', v_run.input, 'steps', '{}'::jsonb)),
           _requeue_steps.now + coalesce(ws.delay, interval '0'), coalesce(ws.priority, 0) + v_run.priority
           )::rowflow.step_job order by ws.wait is not null, ws.name), '{}'),
         (count(*) filter (where ws.wait is null))::int
  into v_roots, v_jobs, v_plain
  from rowflow.workflow_steps as ws
  where ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = any (_requeue_steps.steps)
    and ws.n_deps = 0;
  v_ids := rowflow._add_step_jobs(v_jobs[1:v_plain])
           || rowflow._add_step_jobs(v_jobs[v_plain + 1:], 'rowflow:wait');
  insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts, created_at,
                                 queued_at, job_id)
  select v_run.id, ws.name, 'step', 'queued', 0, 1, ws.attempts, _requeue_steps.now, _requeue_steps.now, v_ids[o.i]
  from unnest(v_roots) with ordinality as o(name, i)
  join rowflow.workflow_steps as ws on ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = o.name
  order by o.i;

  -- PHASE 2: the others, released by their done dependencies.
  select coalesce(array_agg(distinct row(v_run.id, sr.step, 1)::rowflow.done_step), '{}') into v_done
  from rowflow.workflow_steps as ws
  cross join unnest(ws.depends_on) as dep(name)
  join rowflow.step_runs as sr on sr.run_id = v_run.id and sr.step = dep.name and sr.kind = 'step'
  where ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = any (_requeue_steps.steps)
    and sr.status in ('succeeded', 'skipped');
  select coalesce(array_agg(x.step order by x.step) filter (where x.status in ('queued', 'running')), '{}')
  into v_released
  from rowflow._release(v_done, null, null, _requeue_steps.now, null) as x;
  return v_roots || v_released;
end;
$$;
comment on function rowflow._requeue_steps(bigint, text[], timestamptz) is
  'Internal: queues the given steps of a running run afresh (roots now, the others through the release of their done dependencies); answers the steps queued.';
select rowflow._allow('function rowflow._requeue_steps(bigint, text[], timestamptz)', '{}');

-- from sql/schema/85_operate/explain_run.sql
create or replace function rowflow.explain_run(run_id bigint, now timestamptz default null,
  worker_timeout interval default '30 seconds')
returns table (step text, status text, code text, reason text, detail jsonb)
language plpgsql
stable
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(explain_run.now, pg_catalog.statement_timestamp());
  v_run rowflow.runs;
  v_paused boolean;
  v_live int;
begin
  perform rowflow._require('{operator,viewer}');
  select r.* into v_run from rowflow.runs as r where r.id = explain_run.run_id;
  if not found then
    raise exception 'unknown run %', explain_run.run_id using errcode = 'RF023';
  end if;
  select w.paused into v_paused from rowflow.workflows as w where w.name = v_run.workflow;
  select count(*)::int into v_live from rowflow.workers as wk
  where wk.heartbeat_at > v_now - explain_run.worker_timeout;

  if v_run.status in ('succeeded', 'failed', 'cancelled') then
    return query select null::text, v_run.status, 'run_finished',
      'the run ended: ' || v_run.status || ' at ' || v_run.finished_at::text,
      pg_catalog.jsonb_build_object('finishedAt', v_run.finished_at, 'error', v_run.error);
    return;
  end if;
  if v_run.status = 'queued' then
    return query select null::text, 'queued'::text,
      case when v_paused then 'run_paused' else 'run_unclaimed' end,
      case when v_paused then 'workflow ' || v_run.workflow || ' is paused: its runs wait until resume_workflow'
           when v_live = 0 then 'no live worker: the run waits to be claimed by one'
           else 'waiting to be claimed by one of ' || v_live || ' live worker(s)' end,
      pg_catalog.jsonb_build_object('liveWorkers', v_live, 'createdAt', v_run.created_at);
    return;
  end if;

  return query
  with s as (
    -- every step of the version (a missing row is pending) and the chain's links
    select ws.name as step, coalesce(sr.status, 'pending') as status, 'step'::text as kind, ws.task,
           ws.depends_on, sr.attempt, coalesce(sr.max_attempts, ws.attempts) as max_attempts, sr.error,
           sr.job_id, sr.locked_by, sr.started_at, coalesce(sr.kind, 'step') as row_kind
    from rowflow.workflow_steps as ws
    left join rowflow.step_runs as sr on sr.run_id = v_run.id and sr.step = ws.name
    where ws.workflow = v_run.workflow and ws.version = v_run.version
    union all
    select sr.step, sr.status, sr.kind,
           case when sr.kind = 'on_failure' then wv.on_failure
                else (select c.compensate from rowflow.workflow_steps as c
                      where c.workflow = v_run.workflow and c.version = v_run.version
                        and c.name = substr(sr.step, length('compensate:') + 1)) end,
           '{}'::text[], sr.attempt, sr.max_attempts, sr.error, sr.job_id, sr.locked_by, sr.started_at, sr.kind
    from rowflow.step_runs as sr
    join rowflow.workflow_versions as wv on wv.workflow = v_run.workflow and wv.version = v_run.version
    where sr.run_id = v_run.id and sr.kind <> 'step'
  ), x as (
    select s.*, j.run_at, j.locked_at as job_locked_at, j.locked_by as job_locked_by, q.queue_name,
           q.locked_by as queue_locked_by,
           (select array_agg(d.name order by d.name) from unnest(s.depends_on) as d(name)
            left join rowflow.step_runs as dr on dr.run_id = v_run.id and dr.step = d.name
            where coalesce(dr.status, 'pending') not in ('succeeded', 'skipped')) as waiting_on,
           (select count(*)::int from graphile_worker._private_jobs as o
            where q.id is not null and o.job_queue_id = q.id and o.id < j.id) as ahead,
           (select pg_catalog.jsonb_build_object('run', (o.payload ->> 'run')::bigint, 'step', o.payload ->> 'step')
            from graphile_worker._private_jobs as o
            where q.id is not null and q.locked_by is not null and o.job_queue_id = q.id and o.locked_at is not null
            limit 1) as holder,
           (select count(*)::int from rowflow.workers as wk
            where wk.heartbeat_at > v_now - explain_run.worker_timeout
              and (s.task = any (wk.tasks) or left(s.task, 1) = '(')) as task_workers,
           w.kind as wait_kind, w.signal as wait_signal, w.until as wait_until, w.relid as wait_relid,
           t.id as wait_task, t.assignee as wait_assignee
    from s
    left join rowflow.step_waits as w on w.run_id = v_run.id and w.step = s.step and s.row_kind = 'step'
    left join rowflow.human_tasks as t on t.id = w.task_id
    left join graphile_worker._private_jobs as j on j.id = s.job_id
    left join graphile_worker._private_job_queues as q on q.id = j.job_queue_id
    where s.status in ('pending', 'queued', 'running')
  )
  select x.step, x.status,
    case
      when x.status = 'running' then 'running'
      when x.status = 'pending' and x.row_kind <> 'step' then 'waiting_on_chain'
      when x.status = 'pending' then 'waiting_on_dependencies'
      when x.wait_kind is not null then 'waiting_for_' || x.wait_kind
      when x.locked_by is not null then 'handed_to_worker'
      when x.run_at > v_now and x.attempt > 1 then 'backing_off'
      when x.run_at > v_now then 'delayed'
      when x.queue_name is not null and x.ahead > 0 then 'queued_behind'
      when x.task_workers = 0 then 'no_worker_for_task'
      else 'ready'
    end,
    case
      when x.status = 'running' then
        'attempt ' || x.attempt || ' of ' || x.max_attempts || ' running on worker '
        || coalesce(x.locked_by, x.job_locked_by, '?') || ' since ' || x.started_at::text
      when x.status = 'pending' and x.row_kind <> 'step' then
        'waiting for the earlier links of the compensation chain'
      when x.status = 'pending' then
        'waiting on ' || coalesce(pg_catalog.array_to_string(x.waiting_on, ', '), 'its dependencies')
      when x.wait_kind is not null then
        case x.wait_kind when 'signal' then 'waiting for signal ' || x.wait_signal
                         when 'human' then 'waiting for task ' || x.wait_task || ', assigned to ' || x.wait_assignee
                         else 'waiting for a row of ' || x.wait_relid::regclass::text end
        || coalesce(', until ' || x.wait_until::text, '')
      when x.locked_by is not null then 'handed to worker ' || x.locked_by || ', starting'
      when x.run_at > v_now and x.attempt > 1 then
        'attempt ' || (x.attempt - 1) || ' of ' || x.max_attempts || ' failed'
        || coalesce(': ' || (x.error ->> 'message'), '') || '; attempt ' || x.attempt || ' starts at ' || x.run_at::text
      when x.run_at > v_now then 'delayed until ' || x.run_at::text
      when x.queue_name is not null and x.ahead > 0 then
        'queue ' || x.queue_name || ': ' || x.ahead || ' job(s) ahead'
        || coalesce(', held by run ' || (x.holder ->> 'run') || ' step ' || (x.holder ->> 'step'), '')
      when x.task_workers = 0 then 'no live worker has registered task ' || x.task
      else 'due, waiting for a free slot of ' || x.task_workers || ' live worker(s) with task ' || x.task
    end,
    pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
      'kind', x.row_kind, 'task', x.task, 'attempt', x.attempt, 'maxAttempts', x.max_attempts,
      'waitingOn', pg_catalog.to_jsonb(x.waiting_on), 'runAt', x.run_at, 'queue', x.queue_name,
      'ahead', case when x.queue_name is not null then x.ahead end, 'holder', x.holder,
      'worker', coalesce(x.locked_by, x.job_locked_by), 'liveWorkersWithTask', x.task_workers,
      'lastError', x.error, 'signal', x.wait_signal, 'taskId', x.wait_task, 'assignee', x.wait_assignee,
      'until', x.wait_until))
  from x
  order by case x.row_kind when 'step' then 0 else 1 end, x.step;
end;
$$;
comment on function rowflow.explain_run(bigint, timestamptz, interval) is
  'Why each unfinished step of a run is not running (or where it runs): code, sentence and figures. RF023 if the run is unknown.';
select rowflow._allow('function rowflow.explain_run(bigint, timestamptz, interval)', '{operator,viewer}');

-- from sql/schema/85_operate/purge_runs.sql
create or replace function rowflow._purge_batch(older_than interval, statuses text[], workflow text, batch int,
  now timestamptz)
returns bigint[]
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_ids bigint[];
begin
  select coalesce(array_agg(v.id order by v.id), '{}') into v_ids
  from (
    select r.id from rowflow.runs as r
    where r.status = any (_purge_batch.statuses) and r.status in ('succeeded', 'failed', 'cancelled')
      and r.finished_at < _purge_batch.now - _purge_batch.older_than
      and (_purge_batch.workflow is null or r.workflow = _purge_batch.workflow)
    order by r.id
    limit _purge_batch.batch
    for update skip locked
  ) as v;
  if cardinality(v_ids) > 0 then
    delete from rowflow.step_runs as sr where sr.run_id = any (v_ids);
    delete from rowflow.events as e where e.run_id = any (v_ids);
    delete from rowflow.signals as s where s.run_id = any (v_ids);
    delete from rowflow.human_tasks as t where t.run_id = any (v_ids);
    delete from rowflow.step_waits as w where w.run_id = any (v_ids);
    delete from rowflow.runs as r where r.id = any (v_ids);
  end if;
  return v_ids;
end;
$$;
comment on function rowflow._purge_batch(interval, text[], text, int, timestamptz) is
  'Internal: deletes up to batch finished runs older than older_than (steps, events, signals, tasks); answers their ids.';
select rowflow._allow('function rowflow._purge_batch(interval, text[], text, int, timestamptz)', '{}');

-- from sql/schema/85_operate/run_counts.sql
create or replace function rowflow.run_counts(workflow text default null, since timestamptz default null)
returns table (total bigint, active bigint, queued bigint, running bigint, compensating bigint,
               succeeded bigint, failed bigint, cancelled bigint)
language sql
stable
set search_path to ''
as $$
  select pg_catalog.count(*),
         pg_catalog.count(*) filter (where r.status in ('queued', 'running', 'compensating')),
         pg_catalog.count(*) filter (where r.status = 'queued'),
         pg_catalog.count(*) filter (where r.status = 'running'),
         pg_catalog.count(*) filter (where r.status = 'compensating'),
         pg_catalog.count(*) filter (where r.status = 'succeeded'),
         pg_catalog.count(*) filter (where r.status = 'failed'),
         pg_catalog.count(*) filter (where r.status = 'cancelled')
  from rowflow.visible_runs as r
  where (run_counts.workflow is null or r.workflow = run_counts.workflow)
    and (run_counts.since is null or r.created_at >= run_counts.since);
$$;
comment on function rowflow.run_counts(text, timestamptz) is
  'How many runs (of workflow, created at or after since; null: all) the caller may see: total, active (queued + running + compensating) and one count per status. One row.';
select rowflow._allow('function rowflow.run_counts(text, timestamp with time zone)', '{app,operator,viewer}');

-- from sql/schema/85_operate/skip_step.sql
create or replace function rowflow.skip_step(run_id bigint, step text, output jsonb default null,
  reason text default null, now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(skip_step.now, pg_catalog.statement_timestamp());
  v_run rowflow.runs;
  v_sr rowflow.step_runs;
  v_status text := case when skip_step.output is null then 'skipped' else 'succeeded' end;
  v_released text[];
  v_run_status text;
  v_answer jsonb;
  v_exists boolean;
  v_settled jsonb;
begin
  -- GUARD: operators; an object or nothing; lock the run, then the step.
  perform rowflow._require('{operator}');
  if skip_step.output is not null and pg_catalog.jsonb_typeof(skip_step.output) <> 'object' then
    raise exception 'skip_step: output must be a JSON object or null, got %', pg_catalog.jsonb_typeof(skip_step.output)
      using errcode = 'RF043';
  end if;
  select r.* into v_run from rowflow.runs as r where r.id = skip_step.run_id for no key update;
  if not found then
    raise exception 'unknown run %', skip_step.run_id using errcode = 'RF023';
  end if;
  if not exists (select 1 from rowflow.workflow_steps as ws
                 where ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = skip_step.step) then
    raise exception 'run % (workflow %, version %) has no step %', v_run.id, v_run.workflow, v_run.version,
      coalesce(pg_catalog.quote_literal(skip_step.step), 'null') using errcode = 'RF041';
  end if;
  select sr.* into v_sr from rowflow.step_runs as sr
  where sr.run_id = v_run.id and sr.step = skip_step.step and sr.kind = 'step' for update;
  v_exists := found;
  if v_exists and v_sr.status in ('succeeded', 'skipped') then
    return pg_catalog.jsonb_build_object('run', v_run.id, 'step', skip_step.step, 'skipped', false,
                                         'status', v_sr.status, 'runStatus', v_run.status);
  end if;
  if v_run.status <> 'running' then
    raise exception 'run % is %: only a running run''s steps can be skipped', v_run.id, v_run.status
      using errcode = 'RF042',
      hint = case when v_run.status in ('failed', 'cancelled') then 'retry_run puts it back to running; then skip the step.'
                  when v_run.status = 'queued' then 'Its steps exist once a worker claims it.' end;
  end if;
  if v_exists and v_sr.status not in ('pending', 'queued') then
    raise exception 'step % of run % is %: only a pending or queued step can be skipped', skip_step.step, v_run.id,
      v_sr.status using errcode = 'RF042',
      hint = case when v_sr.status = 'running' then 'Wait for its attempt to end, or cancel the run.' end;
  end if;

  -- PHASE 1: a step without a row gets one (pending), then it settles
  -- through the path every handler-less end takes (rowflow._settle_step:
  -- its job, its wait and its open human task go; dependents are released).
  if not v_exists then
    insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts, created_at)
    select v_run.id, ws.name, 'step', 'pending', ws.n_deps, 0, ws.attempts, v_now
    from rowflow.workflow_steps as ws
    where ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = skip_step.step;
  end if;
  v_settled := rowflow._settle_step(v_run.id, skip_step.step, v_status, skip_step.output, v_now, 'step_skipped',
    pg_catalog.jsonb_build_object('by', session_user, 'status', v_status, 'reason', skip_step.reason,
                                  'from', coalesce(v_sr.status, 'pending')));
  v_released := array(select pg_catalog.jsonb_array_elements_text(v_settled -> 'released'));
  v_run_status := v_settled ->> 'runStatus';
  v_answer := pg_catalog.jsonb_build_object('run', v_run.id, 'step', skip_step.step, 'skipped', true,
    'status', v_status, 'from', coalesce(v_sr.status, 'pending'), 'released', pg_catalog.to_jsonb(v_released),
    'runStatus', v_run_status);
  perform rowflow._audit('skip_step', v_run.workflow, v_run.id, skip_step.step, skip_step.reason,
                         v_answer - 'run' - 'step' || pg_catalog.jsonb_build_object('output', skip_step.output), v_now);
  return v_answer;
end;
$$;
comment on function rowflow.skip_step(bigint, text, jsonb, text, timestamptz) is
  'Settles a pending or queued step of a running run by hand: succeeded with the given output object, or skipped (null); releases its dependents through the gate. Answers what changed.';
select rowflow._allow('function rowflow.skip_step(bigint, text, jsonb, text, timestamptz)', '{operator}');
