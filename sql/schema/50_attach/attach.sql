create or replace function rowflow.attach(
  table_name regclass,
  workflow text,
  events text[] default '{insert}',
  "when" text default null,
  input text default null,
  idempotency_key text default null)
returns int
language sql
set search_path to ''
as $$
  select rowflow._attach(attach.table_name, attach.table_name::text, attach.workflow,
                         attach.events, attach."when", attach.input, attach.idempotency_key);
$$;
comment on function rowflow.attach(regclass, text, text[], text, text, text) is
  'Same as attach(text, …) for a regclass argument.';

create or replace function rowflow.attach(
  table_name text,
  workflow text,
  events text[] default '{insert}',
  "when" text default null,
  input text default null,
  idempotency_key text default null,
  caller_search_path text default pg_catalog.current_setting('search_path'))
returns int
language sql
set search_path to ''
as $$
  select rowflow._attach(rowflow._resolve_table(attach.table_name, attach.caller_search_path),
                         attach.table_name, attach.workflow, attach.events, attach."when",
                         attach.input, attach.idempotency_key);
$$;
comment on function rowflow.attach(text, text, text[], text, text, text, text) is
  'Attaches a workflow to a table: row changes (events) for which "when" holds start a run with the given input (default: the row as JSON) in the same transaction. The table name resolves with the caller''s search_path. Returns the attachment id. RF020, RF030-RF036.';
