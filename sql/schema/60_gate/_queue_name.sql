-- rowflow._queue_name(queue_name, queue_key, ctx) → graphile queue name
--
-- A step's "queue" option as a graphile-worker queue (serial FIFO): the
-- fixed name, or name:<key value> when a key path is given, so that, e.g.,
-- one customer's steps run one at a time while different customers' run in
-- parallel. A key value longer than 64 characters is hashed (graphile
-- allows 128); a key that evaluates to nothing or null puts the job on the
-- base queue.
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
select rowflow._allow('function rowflow._queue_name(text, jsonpath, jsonb)', '{}');
