-- 000010_pinned_attach: attach(text, …) and detach(text, …) pin search_path
-- like every other rowflow function (DESIGN.md invariant 6).
--
-- 000004 left these two unpinned on purpose: they resolve the table name the
-- way a ::regclass cast in the caller's query would, so that a missing table
-- is RF030 instead of a cast error. The same is achieved with a pinned body:
-- a trailing parameter defaults to the caller's search_path (a default is
-- evaluated in the calling query, before the function's own SET applies), the
-- name is resolved under it, and the empty path is restored at once. Callers
-- do not pass the new parameter; existing calls keep working.

drop function rowflow.attach(text, text, text[], text, text, text);
drop function rowflow.detach(text, text);

-- Resolves a table name under the caller's search_path; null when there is no
-- such table or the name does not parse (reported as RF030 by the callers).
create function rowflow._resolve_table(table_name text, caller_search_path text)
returns oid
language plpgsql
set search_path to ''
as $$
declare
  v_relid oid;
begin
  begin
    perform pg_catalog.set_config('search_path', _resolve_table.caller_search_path, true);
    v_relid := pg_catalog.to_regclass(_resolve_table.table_name);
  exception when others then
    v_relid := null; -- a malformed name (e.g. an unbalanced quote)
  end;
  perform pg_catalog.set_config('search_path', '', true);
  return v_relid;
end;
$$;

create function rowflow.attach(
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

create function rowflow.detach(
  table_name text,
  workflow text,
  caller_search_path text default pg_catalog.current_setting('search_path'))
returns int
language sql
set search_path to ''
as $$
  select rowflow._detach(rowflow._resolve_table(detach.table_name, detach.caller_search_path),
                         detach.table_name, detach.workflow);
$$;
comment on function rowflow.detach(text, text, text) is
  'Removes every attachment of workflow on the table (triggers and function); started runs are left alone. Returns how many. RF030, RF031, RF036, RF037.';
