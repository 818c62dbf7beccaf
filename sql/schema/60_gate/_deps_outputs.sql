-- rowflow._deps_outputs(run_id, names) → {"<dependency>": output, …}
--
-- The "steps" object that conditions and queue keys are evaluated over,
-- and the deps a handler receives (null for a skipped dependency).
create or replace function rowflow._deps_outputs(run_id bigint, names text[])
returns jsonb
language sql stable
set search_path to ''
as $$
  select coalesce(jsonb_object_agg(sr.step, sr.output), '{}'::jsonb)
  from rowflow.step_runs as sr
  where sr.run_id = _deps_outputs.run_id and sr.step = any (_deps_outputs.names);
$$;
select rowflow._allow('function rowflow._deps_outputs(bigint, text[])', '{}');
