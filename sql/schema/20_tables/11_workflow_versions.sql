-- rowflow.workflow_versions: the spec exactly as given to define_workflow,
-- one row per version. Never updated: runs pin (workflow, version), so a
-- new definition never changes a run that already started.
create table rowflow.workflow_versions (
  workflow   text not null references rowflow.workflows (name),
  version    int not null,
  spec       jsonb not null,
  spec_hash  text not null,
  on_failure text,
  step_count smallint not null,
  created_at timestamptz not null default now(),
  primary key (workflow, version),
  constraint version_is_positive check (version >= 1)
);
comment on table rowflow.workflow_versions is
  'Immutable: the spec as given to define_workflow. Runs pin (workflow, version).';
select rowflow._allow('table rowflow.workflow_versions', '{viewer,worker}');
