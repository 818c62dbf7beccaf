-- rowflow.workflow_steps: the compiled form of a version, one row per step,
-- written once by define_workflow. The spec's defaults are filled in and its
-- strings parsed (intervals, SQL/JSON paths), so that claim_runs is one
-- INSERT … SELECT and a gate reads one row per dependent instead of walking
-- the spec's JSON.
create table rowflow.workflow_steps (
  workflow       text not null,
  version        int not null,
  idx            smallint not null,           -- position in spec.steps (0-based)
  name           text not null,
  task           text not null,
  depends_on     text[] not null,             -- in spec order
  dependents     text[] not null,             -- sorted, so the gate locks in a fixed order
  n_deps         smallint not null,
  attempts       smallint not null,
  backoff_type   text not null,
  backoff_base   interval not null,
  backoff_max    interval not null,
  backoff_jitter double precision not null,
  timeout        interval,
  priority       smallint not null,
  queue_name     text,
  queue_key      jsonpath,
  delay          interval,
  if_path        jsonpath,
  compensate     text,
  wait           jsonb,                       -- how the step waits before it runs or settles (_compile_wait)
  map_path       jsonpath,                    -- a map step: the array it runs its task over (sql/schema/62_map/)
  map_errors     text,                        -- a map step: 'fail' (an element's failure fails the step) or 'collect'
  primary key (workflow, version, idx),
  unique (workflow, version, name),
  foreign key (workflow, version) references rowflow.workflow_versions (workflow, version),
  constraint backoff_type_is_valid check (backoff_type in ('fixed', 'exponential')),
  constraint n_deps_matches check (n_deps = cardinality(depends_on)),
  constraint map_errors_is_valid check ((map_path is null and map_errors is null)
                                        or (map_path is not null and map_errors in ('fail', 'collect')))
);
comment on column rowflow.workflow_steps.wait is
  'How the step waits (sql/schema/30_define/_compile_wait.sql): {"kind": "time" | "signal" | "human" | "row", …}; null for a plain step. A step with a wait is queued as a rowflow:wait job, which arms it (rowflow.arm_step).';
comment on column rowflow.workflow_steps.map_path is
  'A map step''s "map": the SQL/JSON path (over {"input", "steps"}) of the array whose elements each get a step run of kind element (sql/schema/62_map/_map_start.sql); null for other steps.';
select rowflow._allow('table rowflow.workflow_steps', '{viewer}');
