-- rowflow.table_attachments: one row per rowflow.attach call. The generated
-- trigger function rowflow.<function_name> (the table owner's), the start
-- function rowflow.st_… (rowflow's) and the statement-level triggers on
-- relid belong to it (sql/schema/50_attach/). relid survives renames; a
-- row whose table was dropped is purged by the next attach or detach.
-- Written only by attach and detach (nobody else may write it).
create table rowflow.table_attachments (
  id               int generated always as identity primary key,
  relid            oid not null,                 -- pg_class oid; survives renames
  workflow         text not null references rowflow.workflows (name),
  events           text[] not null,
  when_sql         text,
  input_sql        text,
  key_sql          text,
  function_name    text not null unique,        -- in schema rowflow
  created_at       timestamptz not null default now(),
  created_by       name not null default current_user,  -- the role attach acted for
  columns          text[],                       -- the default input's row: only these columns
  exclude_columns  text[],                       -- … or all but these
  on_delete        text not null default 'ignore', -- deleting the row: cancel | compensate | ignore its runs
  supersede        boolean not null default false, -- a newer run of the row cancels its older unfinished ones
  constraint events_are_valid
    check (cardinality(events) between 1 and 3 and events <@ array['insert', 'update', 'delete']),
  constraint on_delete_is_valid check (on_delete in ('cancel', 'compensate', 'ignore')),
  constraint function_name_is_safe check (function_name ~ '^tg_[a-z0-9_]+$')
);
create index table_attachments_relid_idx on rowflow.table_attachments (relid, workflow);
comment on table rowflow.table_attachments is
  'One row per rowflow.attach call; the generated trigger function rowflow.<function_name> and its triggers on relid belong to it.';
select rowflow._allow('table rowflow.table_attachments', '{viewer}');
