-- rowflow.attach(table_name, workflow, events, "when", input, idempotency_key, columns, exclude_columns, caller, …, on_delete, supersede) → attachment id
--
-- Attaches a workflow to a business table: each row change of the given
-- events for which "when" holds starts a run, in the writer's transaction,
-- with the given input (default: the row as JSON, or the listed `columns`,
-- or the row without `exclude_columns`). Each run records its row
-- (rowflow.runs_for); on_delete and supersede tie the runs' lives to it.
-- The work is in rowflow._attach
-- (sql/schema/50_attach/_attach.sql); these two overloads only resolve the
-- table. Contract and errors: docs/triggers.md; rights: docs/security.md.
--
-- SECURITY DEFINER: attaching writes rowflow.table_attachments and creates
-- functions in schema rowflow, which attachers may not do themselves.
-- EXECUTE is the owner's only; a DBA grants it to the roles that may attach
-- (`grant execute on function rowflow.attach(text, …) to shop_owner`). The
-- attachment acts for `caller` (default: the caller's current_user, which a
-- default evaluates in the calling query): the session must be a member of
-- it, and it must own the table or be a member of its owner.
--
-- attach(text, …) resolves the name the way a ::regclass cast in the
-- caller's query would, so that a missing table is RF030 instead of a cast
-- error, and still pins search_path like every rowflow function (invariant
-- 6): its last parameter defaults to the caller's search_path (a default is
-- evaluated in the calling query, before the function's own SET applies),
-- and rowflow._resolve_table resolves the name under it.
create or replace function rowflow.attach(
  table_name regclass,
  workflow text,
  events text[] default '{insert}',
  "when" text default null,
  input text default null,
  idempotency_key text default null,
  columns text[] default null,
  exclude_columns text[] default null,
  caller name default current_user,
  on_delete text default 'ignore',
  supersede boolean default false)
returns int
language sql
security definer
set search_path to ''
as $$
  select rowflow._attach(attach.table_name, attach.table_name::text, attach.workflow,
                         attach.events, attach."when", attach.input, attach.idempotency_key,
                         attach.columns, attach.exclude_columns, attach.caller, attach.on_delete, attach.supersede);
$$;
comment on function rowflow.attach(regclass, text, text[], text, text, text, text[], text[], name, text, boolean) is
  'Same as attach(text, …) for a regclass argument.';
select rowflow._allow('function rowflow.attach(regclass, text, text[], text, text, text, text[], text[], name, text, boolean)', '{}');

create or replace function rowflow.attach(
  table_name text,
  workflow text,
  events text[] default '{insert}',
  "when" text default null,
  input text default null,
  idempotency_key text default null,
  columns text[] default null,
  exclude_columns text[] default null,
  caller name default current_user,
  caller_search_path text default pg_catalog.current_setting('search_path'),
  on_delete text default 'ignore',
  supersede boolean default false)
returns int
language sql
security definer
set search_path to ''
as $$
  select rowflow._attach(rowflow._resolve_table(attach.table_name, attach.caller_search_path),
                         attach.table_name, attach.workflow, attach.events, attach."when",
                         attach.input, attach.idempotency_key, attach.columns, attach.exclude_columns,
                         attach.caller, attach.on_delete, attach.supersede);
$$;
comment on function rowflow.attach(text, text, text[], text, text, text, text[], text[], name, text, text, boolean) is
  'Attaches a workflow to a table: row changes (events) for which "when" holds start a run with the given input (default: the row as JSON, or only `columns`, or without `exclude_columns`) in the same transaction. The table name resolves with the caller''s search_path. on_delete (cancel | compensate | ignore) decides what deleting a row does to its unfinished runs; supersede => true makes a newer run of a row cancel its older unfinished ones. Returns the attachment id. RF020, RF030-RF036.';
select rowflow._allow('function rowflow.attach(text, text, text[], text, text, text, text[], text[], name, text, text, boolean)', '{}');
