-- rowflow._form_pointer(name) → text
--
-- One JSON pointer segment (RFC 6901) for the paths in form messages:
-- "~" is written "~0" and "/" is written "~1", so 'answer/a~1b' names the
-- property "a/b" and not "b" inside "a". Same as formPointer in
-- src/definition/form-json.ts.
create or replace function rowflow._form_pointer(name text)
returns text
language sql immutable strict
set search_path to ''
as $$
  select pg_catalog.replace(pg_catalog.replace(_form_pointer.name, '~', '~0'), '/', '~1');
$$;
select rowflow._allow('function rowflow._form_pointer(text)', '{}');
