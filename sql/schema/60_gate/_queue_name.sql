-- Queue of a step's job: the fixed name, or name:<key value> when a key path
-- is given (a long key value is hashed to keep within graphile's 128 chars).
-- A key that evaluates to nothing/null puts the job on the base queue.
create or replace function rowflow._queue_name(queue_name text, queue_key jsonpath, ctx jsonb)
returns text
language sql immutable
set search_path to ''
as $$
  select case
    when _queue_name.queue_name is null then null
    when _queue_name.queue_key is null then _queue_name.queue_name
    else coalesce(
      _queue_name.queue_name || ':' || (
        select case when length(k) <= 64 then k else md5(k) end
        from (select jsonb_path_query_first(_queue_name.ctx, _queue_name.queue_key, '{}', true) #>> '{}' as k) as x),
      _queue_name.queue_name)
  end;
$$;
